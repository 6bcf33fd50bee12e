package io.qpatch.trace;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

/**
 * The ring buffer the in-process trampolines write and we read, one memory-mapped file
 * (a memfd) shared by the target and our JVM: a header page, then {@code capacity}
 * records of {@link #RECORD} (a power of two of them).
 *
 * <p>Producers (any thread of the target, in a trampoline) reserve a ticket by
 * compare-and-swap on {@code head}, refusing when {@code head - tail >= capacity}: then
 * they wait, re-checking, while the time-stamp counter is below {@code deadline} (which
 * the reader keeps pushing a little ahead while it reads), and past it count {@code lost}
 * instead. A waiter holds no ticket, so one that gives up leaves no reserved but
 * unpublished slot behind. They write the record into slot {@code ticket % capacity}; and
 * store {@code seq = ticket + 1} last. x86 keeps stores in program order as other CPUs
 * see them (Intel SDM vol. 3A, 9.2.2 "Memory Ordering in P6 and More Recent Processor
 * Families"), so a reader that sees the seq sees the whole record. The one consumer (us)
 * reads slot {@code tail % capacity} while its seq is {@code tail + 1}, and publishes
 * {@code tail}: no ready word needs clearing, a previous lap's seq never matches.
 */
final class InProcRing {
  /** Shared with the emitted code: every field's offset comes from here. */
  static final StructLayout RECORD = MemoryLayout.structLayout(
      JAVA_LONG.withName("seq"), JAVA_INT.withName("site"), JAVA_INT.withName("tid"),
      JAVA_LONG.withName("tsc"), JAVA_LONG.withName("goid"),
      JAVA_LONG.withName("ax"), JAVA_LONG.withName("bx"), JAVA_LONG.withName("cx"),
      JAVA_LONG.withName("dx"), JAVA_LONG.withName("si"), JAVA_LONG.withName("di"),
      JAVA_LONG.withName("r8"), JAVA_LONG.withName("r9"), JAVA_LONG.withName("r10"),
      JAVA_LONG.withName("r11"), JAVA_LONG.withName("r14"), JAVA_LONG.withName("sp"));

  /**
   * The record of a ring whose trampolines also store the low 64 bits of XMM0-XMM15 (a
   * plan that decodes floating-point values): {@link #RECORD}, then x0..x15. Only such
   * plans pay for the bigger records.
   */
  static final StructLayout RECORD_WITH_XMM = xmmRecord();

  private static StructLayout xmmRecord() {
    java.util.List<MemoryLayout> fields = new java.util.ArrayList<>(RECORD.memberLayouts());
    for (int i = 0; i < SampleRegs.XMM_COUNT; i++) fields.add(JAVA_LONG.withName("x" + i));
    return MemoryLayout.structLayout(fields.toArray(MemoryLayout[]::new));
  }

  /**
   * head, tail and lost on cache lines of their own (the producers' CAS on head should
   * not bounce the line the consumer writes tail to), then a scratch record that a
   * trampoline fills when the ring is full, instead of branching around its stores, then
   * the reader's deadline (0: never wait), last so the older offsets stay as they were.
   */
  static final StructLayout HEADER = MemoryLayout.structLayout(
      JAVA_LONG.withName("head"), MemoryLayout.paddingLayout(56),
      JAVA_LONG.withName("tail"), MemoryLayout.paddingLayout(56),
      JAVA_LONG.withName("lost"), MemoryLayout.paddingLayout(56),
      JAVA_LONG.withName("magic"), JAVA_LONG.withName("capacity"), MemoryLayout.paddingLayout(48),
      MemoryLayout.sequenceLayout(Shape.MAX_STRIDE, java.lang.foreign.ValueLayout.JAVA_BYTE).withName("scratch"),
      JAVA_LONG.withName("deadline"), MemoryLayout.paddingLayout(56));

  static final long HEADER_BYTES = io.qpatch.sys.Mman.PAGE;
  static final long RECORD_BYTES = RECORD.byteSize();
  static final long RECORD_WITH_XMM_BYTES = RECORD_WITH_XMM.byteSize();
  private static final long X0_OFFSET = offset(RECORD_WITH_XMM, "x0");
  /** "qpinproc": marks our ring for anyone reading the target's memory. */
  static final long MAGIC = 0x636f72706e697071L;

  /** Record slots, in SampleRegs order, of the registers a trampoline saves. */
  static final String[] REG_FIELDS = {"ax", "bx", "cx", "dx", "si", "di", "r8", "r9", "r10", "r11", "r14", "sp"};
  static final int[] REG_SLOTS = {SampleRegs.AX, SampleRegs.BX, SampleRegs.CX, SampleRegs.DX,
      SampleRegs.SI, SampleRegs.DI, SampleRegs.R8, SampleRegs.R9, SampleRegs.R10, SampleRegs.R11,
      SampleRegs.R14, SampleRegs.SP};

  /** The goid field when the trampoline did not read one (no stack check told it where g is). */
  static final long GOID_NOT_READ = -2;

  private static final VarHandle SEQ = RECORD.varHandle(groupElement("seq"));
  private static final VarHandle SITE = RECORD.varHandle(groupElement("site"));
  private static final VarHandle TID = RECORD.varHandle(groupElement("tid"));
  private static final VarHandle TSC = RECORD.varHandle(groupElement("tsc"));
  private static final VarHandle GOID = RECORD.varHandle(groupElement("goid"));
  private static final VarHandle TAIL = HEADER.varHandle(groupElement("tail"));
  private static final VarHandle HEAD = HEADER.varHandle(groupElement("head"));
  private static final VarHandle LOST = HEADER.varHandle(groupElement("lost"));
  private static final VarHandle MAGIC_FIELD = HEADER.varHandle(groupElement("magic"));
  private static final VarHandle DEADLINE = HEADER.varHandle(groupElement("deadline"));
  private static final VarHandle CAPACITY = HEADER.varHandle(groupElement("capacity"));
  private static final long[] REG_OFFSETS = new long[REG_FIELDS.length];

  static {
    for (int i = 0; i < REG_FIELDS.length; i++) REG_OFFSETS[i] = offset(RECORD, REG_FIELDS[i]);
  }

  private final MemorySegment header;
  private final MemorySegment slots;
  private final long capacity;
  private static final byte[] NOTHING = new byte[0];
  private final Shape shape;
  /** Bytes a record takes. */
  private final long stride;
  private long tail;

  /**
   * The records of one ring: {@link #RECORD}, or {@link #RECORD_WITH_XMM} when {@code
   * xmm}, then the sites' captured memory ({@link InProcCaptures}) up to {@code stride}
   * bytes, a power of two.
   */
  record Shape(boolean xmm, long stride) {
    /** The largest record: the header's scratch record must hold one. */
    static final long MAX_STRIDE = 2048;
    static final Shape PLAIN = new Shape(false, RECORD_BYTES);

    Shape {
      if (Long.bitCount(stride) != 1 || stride > MAX_STRIDE || stride < (xmm ? RECORD_WITH_XMM_BYTES : RECORD_BYTES)) {
        throw new IllegalArgumentException("no record of " + stride + " bytes");
      }
    }

    /** The smallest shape whose records hold {@code bytes}; null when none does. */
    static Shape holding(boolean xmm, long bytes) {
      long stride = Math.max(Long.highestOneBit(Math.max(1, bytes - 1)) << 1, xmm ? RECORD_WITH_XMM_BYTES : RECORD_BYTES);
      return stride > MAX_STRIDE ? null : new Shape(xmm, stride);
    }

    /** Where the fixed part of a record ends and captured memory may begin. */
    long base() {
      return xmm ? RECORD_WITH_XMM_BYTES : RECORD_BYTES;
    }
  }

  /**
   * One record as read, before the backend turns it into a hit.
   *
   * @param rest the bytes after the fixed part (captured memory); empty when there are none
   */
  record Record(int site, int tid, long tsc, long goid, long[] regs, byte[] rest) {}

  /** @param mapping our view of the whole file: header page, then the slots */
  InProcRing(MemorySegment mapping, long capacity, Shape shape) {
    this.header = mapping.asSlice(0, HEADER_BYTES);
    this.slots = mapping.asSlice(HEADER_BYTES, capacity * shape.stride());
    this.capacity = capacity;
    this.shape = shape;
    this.stride = shape.stride();
    this.tail = (long) TAIL.get(header, 0L);
  }

  /** Bytes of the file for {@code capacity} records of {@code stride} bytes. */
  static long fileSize(long capacity, long stride) {
    return HEADER_BYTES + capacity * stride;
  }

  static long offset(StructLayout layout, String field) {
    return layout.byteOffset(groupElement(field));
  }

  /** Writes the header of a new ring (the file is all zeros before). */
  void initialise() {
    MAGIC_FIELD.set(header, 0L, MAGIC);
    CAPACITY.set(header, 0L, capacity);
  }

  /**
   * Reads every published record in order, up to {@code max}, into {@code out}; their
   * slots stay the reader's until {@link #release}. Returns how many were read.
   */
  int drain(java.util.List<Record> out, int max) {
    int n = 0;
    while (n < max) {
      MemorySegment slot = slots.asSlice((tail & (capacity - 1)) * stride, stride);
      if ((long) SEQ.getAcquire(slot, 0L) != tail + 1) break;
      out.add(read(slot));
      tail++;
      n++;
    }
    return n;
  }

  /**
   * Hands the slots {@link #drain} read back to the producers: called once their records
   * have been dealt with, since a producer of a synchronous ring ({@link InProcCode.Ring})
   * waits for exactly that.
   */
  void release() {
    TAIL.setRelease(header, 0L, tail);
  }

  /**
   * For a process that has exited, so that no producer is left: reads every reserved slot
   * up to head, skipping the ones never published (exit_group killed their thread inside
   * a probe, between the reservation and the publishing store: that call never ran on), so
   * that such a hole does not hide the records after it. Returns how many were skipped.
   */
  long drainAfterExit(java.util.List<Record> out) {
    long head = (long) HEAD.getAcquire(header, 0L);
    long skipped = 0;
    for (; tail < head; tail++) {
      MemorySegment slot = slots.asSlice((tail & (capacity - 1)) * stride, stride);
      if ((long) SEQ.getAcquire(slot, 0L) == tail + 1) out.add(read(slot));
      else skipped++;
    }
    TAIL.setRelease(header, 0L, tail);
    return skipped;
  }

  private Record read(MemorySegment slot) {
    boolean xmm = shape.xmm();
    long[] regs = new long[xmm ? SampleRegs.COUNT : SampleRegs.GPR_COUNT];
    for (int i = 0; i < REG_OFFSETS.length; i++) regs[REG_SLOTS[i]] = slot.get(JAVA_LONG, REG_OFFSETS[i]);
    for (int i = 0; xmm && i < SampleRegs.XMM_COUNT; i++) regs[SampleRegs.X0 + i] = slot.get(JAVA_LONG, X0_OFFSET + 8L * i);
    byte[] rest = stride == shape.base() ? NOTHING : new byte[(int) (stride - shape.base())];
    // MemorySegment.copy, not toArray: toArray looks up its layout's class name on every
    // call (JDK 25), 14% of the reader's time measured
    if (rest.length > 0) MemorySegment.copy(slot, java.lang.foreign.ValueLayout.JAVA_BYTE, shape.base(), rest, 0, rest.length);
    return new Record((int) SITE.get(slot, 0L), (int) TID.get(slot, 0L), (long) TSC.get(slot, 0L),
        (long) GOID.get(slot, 0L), regs, rest);
  }

  /**
   * Lets full-ring producers wait until the time-stamp counter reaches {@code tsc};
   * 0 makes them drop at once.
   */
  void waitUntil(long tsc) {
    DEADLINE.setRelease(header, 0L, tsc);
  }

  /** Events the producers dropped because the ring was full. */
  long lost() {
    return (long) LOST.getAcquire(header, 0L);
  }
}

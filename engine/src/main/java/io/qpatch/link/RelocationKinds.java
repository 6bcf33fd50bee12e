package io.qpatch.link;

import static io.qpatch.elf.RelocationType.*;

/**
 * Facts about x86-64 relocation types that the linker needs before it applies them (psABI
 * 4.4.1, Table 4.9; the TLS types from Drepper's "ELF Handling For Thread-Local Storage").
 */
final class RelocationKinds {
  private RelocationKinds() {}

  /** The GOT slot a type needs, or null. */
  static Layout.Slot slot(int type) {
    return switch (type) {
      case R_X86_64_GOTPCREL, R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX,
          R_X86_64_CODE_4_GOTPCRELX, R_X86_64_CODE_5_GOTPCRELX, R_X86_64_CODE_6_GOTPCRELX,
          R_X86_64_GOT32, R_X86_64_GOT64, R_X86_64_GOTPCREL64, R_X86_64_GOTPLT64 ->
          Layout.Slot.ADDRESS;
      case R_X86_64_GOTTPOFF, R_X86_64_CODE_4_GOTTPOFF, R_X86_64_CODE_5_GOTTPOFF,
          R_X86_64_CODE_6_GOTTPOFF -> Layout.Slot.TP_OFFSET;
      case R_X86_64_TLSGD -> Layout.Slot.TLS_INDEX;
      default -> null;
    };
  }

  /**
   * Whether a 32-bit PC-relative reference may have to go through a veneer: a call or jump
   * (PLT32), or a PC32 to a function, to something outside the object that may lie beyond
   * +-2 GiB. (Through a veneer a PC32 that takes a function's address yields the veneer's
   * address: calls through it work, but it differs from the function's own address.)
   */
  static boolean mayNeedVeneer(int type, Binding b) {
    if (!(b instanceof Binding.External e)) return false;
    return switch (type) {
      case R_X86_64_PLT32, R_X86_64_PLT32_BND -> true;
      case R_X86_64_PC32, R_X86_64_PC32_BND -> e.target().function();
      default -> false;
    };
  }

  /**
   * Whether a PC32 to something outside the object gets a GOT slot in reserve: a {@code lea
   * sym(%rip), %reg} that cannot reach sym is turned into {@code mov slot(%rip), %reg}, see
   * {@link RelocationApplier}.
   */
  static boolean mayNeedLeaSlot(int type, Binding b) {
    return b instanceof Binding.External && (type == R_X86_64_PC32 || type == R_X86_64_PC32_BND);
  }

  /** Why a type is refused, or null when it is supported. */
  static String unsupportedReason(int type) {
    return switch (type) {
      case R_X86_64_NONE, R_X86_64_64, R_X86_64_PC32, R_X86_64_PC32_BND, R_X86_64_PLT32,
          R_X86_64_PLT32_BND, R_X86_64_32, R_X86_64_32S, R_X86_64_16, R_X86_64_PC16,
          R_X86_64_8, R_X86_64_PC8, R_X86_64_PC64, R_X86_64_GOTOFF64, R_X86_64_GOTPC32,
          R_X86_64_GOTPC64, R_X86_64_PLTOFF64, R_X86_64_SIZE32, R_X86_64_SIZE64,
          R_X86_64_TPOFF32, R_X86_64_TPOFF64, R_X86_64_GNU_VTINHERIT,
          R_X86_64_GNU_VTENTRY -> null;
      case R_X86_64_TLSLD, R_X86_64_DTPOFF32, R_X86_64_DTPOFF64 ->
          "local-dynamic TLS means the object defines thread-local variables, which a patch"
              + " cannot add to a running process";
      case R_X86_64_GOTPC32_TLSDESC, R_X86_64_TLSDESC_CALL, R_X86_64_TLSDESC,
          R_X86_64_CODE_4_GOTPC32_TLSDESC, R_X86_64_CODE_5_GOTPC32_TLSDESC,
          R_X86_64_CODE_6_GOTPC32_TLSDESC ->
          "TLS descriptors are not supported; compile with -mtls-dialect=gnu";
      case R_X86_64_COPY, R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT, R_X86_64_RELATIVE,
          R_X86_64_IRELATIVE, R_X86_64_RELATIVE64, R_X86_64_DTPMOD64 ->
          "it is a dynamic relocation, which a relocatable object should not contain";
      default -> slot(type) != null ? null : "qpatch does not implement this type";
    };
  }

  /** Types whose symbol must be a thread-local variable. */
  static boolean isTls(int type) {
    Layout.Slot s = slot(type);
    return s == Layout.Slot.TP_OFFSET || s == Layout.Slot.TLS_INDEX
        || type == R_X86_64_TPOFF32 || type == R_X86_64_TPOFF64;
  }
}

package io.qpatch.arch.x86_64;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Binutils as an independent reference: symbol addresses from nm, bytes from objdump. */
final class Objdump {
  private Objdump() {}

  /** One objdump line: address, the instruction's bytes, objdump's text for it. */
  record Line(long address, byte[] bytes, String text) {}

  /** A function: its address and its bytes, with objdump's own instruction boundaries. */
  record Function(String name, long address, byte[] code, List<Line> lines) {}

  private static final Pattern LINE =
      Pattern.compile("^\\s*([0-9a-f]+):\\t((?:[0-9a-f]{2} )+)\\s*(?:\\t(.*))?$");
  private static final Pattern HEADER = Pattern.compile("^([0-9a-f]+) <([^>]+)>:$");

  static void requireBinutils() {
    NativeTools.requireTool("objdump", "binutils");
    NativeTools.requireTool("nm", "binutils");
  }

  /** Address and size of a dynamic symbol of a shared object, from {@code nm -D -S}. */
  static long[] dynamicSymbol(Path file, String name) throws Exception {
    String out = NativeTools.run(Path.of("/"), "nm", "-D", "--defined-only", "-S", file.toString());
    for (String l : out.split("\n")) {
      String[] f = l.trim().split("\\s+");
      if (f.length == 4 && f[3].replaceFirst("@.*", "").equals(name)) {
        return new long[] {Long.parseUnsignedLong(f[0], 16), Long.parseUnsignedLong(f[1], 16)};
      }
    }
    throw new AssertionError(name + " not in the dynamic symbols of " + file);
  }

  /** A dynamic function symbol: name, address, size. */
  record Symbol(String name, long address, long size) {}

  /** Defined, sized code symbols (nm types T, W, i) of a shared object, one per address. */
  static List<Symbol> dynamicFunctions(Path file) throws Exception {
    String out = NativeTools.run(Path.of("/"), "nm", "-D", "--defined-only", "-S", file.toString());
    Map<Long, Symbol> byAddress = new LinkedHashMap<>();
    for (String l : out.split("\n")) {
      String[] f = l.trim().split("\\s+");
      if (f.length != 4 || !List.of("T", "W", "i").contains(f[2])) continue;
      Symbol sym = new Symbol(f[3].replaceFirst("@.*", ""), Long.parseUnsignedLong(f[0], 16),
          Long.parseUnsignedLong(f[1], 16));
      if (sym.size() > 0) byAddress.putIfAbsent(sym.address(), sym);
    }
    return List.copyOf(byAddress.values());
  }

  /**
   * The file image of a shared object's loaded bytes, indexed by virtual address, from the
   * PT_LOAD lines of {@code readelf -lW} (bytes past a segment's file size stay 0).
   */
  static byte[] loadedImage(Path file) throws Exception {
    byte[] bytes = java.nio.file.Files.readAllBytes(file);
    String out = NativeTools.run(Path.of("/"), "readelf", "-lW", file.toString());
    byte[] image = new byte[0];
    for (String l : out.split("\n")) {
      String[] f = l.trim().split("\\s+");
      if (f.length < 6 || !f[0].equals("LOAD")) continue;
      int offset = Integer.decode(f[1]);
      int vaddr = Integer.decode(f[2]);
      int fileSize = Integer.decode(f[4]);
      if (image.length < vaddr + fileSize) image = java.util.Arrays.copyOf(image, vaddr + fileSize);
      System.arraycopy(bytes, offset, image, vaddr, fileSize);
    }
    return image;
  }

  /** The function {@code name} of a shared object, as objdump sees it. */
  static Function function(Path file, String name) throws Exception {
    long[] sym = dynamicSymbol(file, name);
    String out = NativeTools.run(Path.of("/"), "objdump", "-d", "-w", "-M", "intel",
        "--start-address=0x" + Long.toHexString(sym[0]),
        "--stop-address=0x" + Long.toHexString(sym[0] + sym[1]), file.toString());
    return collect(name, sym[0], out.split("\n"));
  }

  /** Every function of the {@code .text} of an object file, by symbol. */
  static Map<String, Function> functions(Path object) throws Exception {
    String out = NativeTools.run(Path.of("/"), "objdump", "-d", "-w", "-M", "intel",
        "-j", ".text", object.toString());
    Map<String, Function> functions = new LinkedHashMap<>();
    List<String> body = new ArrayList<>();
    String name = null;
    long address = 0;
    for (String l : (out + "\n0 <end>:").split("\n")) {
      Matcher h = HEADER.matcher(l);
      if (!h.matches()) {
        body.add(l);
        continue;
      }
      if (name != null) functions.put(name, collect(name, address, body.toArray(String[]::new)));
      name = h.group(2);
      address = Long.parseLong(h.group(1), 16);
      body.clear();
    }
    return functions;
  }

  private static Function collect(String name, long address, String[] lines) {
    ByteArrayOutputStream code = new ByteArrayOutputStream();
    List<Line> parsed = new ArrayList<>();
    for (String l : lines) {
      Matcher m = LINE.matcher(l);
      if (!m.matches()) continue;
      long at = Long.parseLong(m.group(1), 16);
      if (at != address + code.size()) throw new AssertionError("gap in objdump output at " + l);
      byte[] bytes = HexFormat.of().parseHex(m.group(2).replace(" ", ""));
      code.writeBytes(bytes);
      parsed.add(new Line(at, bytes, m.group(3) == null ? "" : m.group(3).trim()));
    }
    return new Function(name, address, code.toByteArray(), parsed);
  }
}

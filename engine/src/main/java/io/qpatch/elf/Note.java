package io.qpatch.elf;

import java.util.HexFormat;

/**
 * One ELF note ({@code Elf64_Nhdr} + name + descriptor; gABI "Note Section"). The name is
 * the owner without its terminating NUL ("GNU").
 */
public record Note(String name, int type, byte[] descriptor) {
  /** NT_GNU_BUILD_ID, /usr/include/elf.h: the descriptor is the build-id bytes. */
  public static final int NT_GNU_BUILD_ID = 3;
  public static final int NT_GNU_ABI_TAG = 1;
  public static final int NT_GNU_PROPERTY_TYPE_0 = 5;

  public boolean isBuildId() {
    return type == NT_GNU_BUILD_ID && name.equals("GNU");
  }

  /** The descriptor in lowercase hex, the way readelf -n prints a build-id. */
  public String descriptorHex() {
    return HexFormat.of().formatHex(descriptor);
  }
}

package io.qpatch.patch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * What the target itself remembers about one patch: written at the start of the patch's
 * record mapping (a memfd named {@code qpatch:NAME:record}, so {@code /proc/PID/maps}
 * leads to it) and read back by every later command. No state is kept on the host.
 * {@link RecordCodec} gives the byte layout.
 *
 * @param address where the record starts in the target
 * @param state the lifecycle state; its byte is the switch the stubs test
 * @param loadedAtMillis when it was loaded (epoch milliseconds)
 * @param name the object's file name ("cpatch.o")
 * @param path the object's absolute path when loaded
 * @param sha256 the object's SHA-256: with the path, the patch's identity
 * @param entryPoints init function and callbacks
 * @param redirects the functions it takes over
 * @param regions every mapping it added, this record's own last
 * @param finalizer what to run at unload
 */
public record PatchRecord(
    long address,
    PatchState state,
    long loadedAtMillis,
    String name,
    String path,
    byte[] sha256,
    EntryPoints entryPoints,
    List<Redirect> redirects,
    List<Region> regions,
    Finalizer finalizer) {

  public PatchRecord {
    if (sha256.length != 32) throw new IllegalArgumentException("sha256 must be 32 bytes");
    sha256 = sha256.clone();
    redirects = List.copyOf(redirects);
    regions = List.copyOf(regions);
  }

  @Override
  public byte[] sha256() {
    return sha256.clone();
  }

  /** The SHA-256 in hex. */
  public String hash() {
    return HexFormat.of().formatHex(sha256);
  }

  /** The first 12 hex digits of the SHA-256, as messages show it. */
  public String shortHash() {
    return hash().substring(0, 12);
  }

  /** The address of the state byte: the switch every stub of this patch reads. */
  public long stateAddress() {
    return address + RecordCodec.STATE_OFFSET;
  }

  /** "cpatch.o (sha256 0123456789ab)". */
  public String label() {
    return name + " (sha256 " + shortHash() + ")";
  }

  public PatchRecord withState(PatchState newState) {
    return new PatchRecord(address, newState, loadedAtMillis, name, path, sha256, entryPoints,
        redirects, regions, finalizer);
  }

  public PatchRecord withFinalizer(Finalizer f) {
    return new PatchRecord(address, state, loadedAtMillis, name, path, sha256, entryPoints,
        redirects, regions, f);
  }

  public PatchRecord withRedirect(int index, Redirect redirect) {
    List<Redirect> changed = new ArrayList<>(redirects);
    changed.set(index, redirect);
    return new PatchRecord(address, state, loadedAtMillis, name, path, sha256, entryPoints,
        changed, regions, finalizer);
  }

  /** Whether {@code address} lies in one of the patch's stub areas. */
  public boolean ownsStub(long stubAddress) {
    return redirects.stream().anyMatch(r -> r.stub() == stubAddress);
  }

  /** The region holding {@code address}, if any. */
  public boolean covers(long anyAddress) {
    return regions.stream().anyMatch(r -> r.contains(anyAddress));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PatchRecord r && address == r.address && state == r.state
        && loadedAtMillis == r.loadedAtMillis && name.equals(r.name) && path.equals(r.path)
        && Arrays.equals(sha256, r.sha256) && entryPoints.equals(r.entryPoints)
        && redirects.equals(r.redirects) && regions.equals(r.regions) && finalizer.equals(r.finalizer);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(address) * 31 + Arrays.hashCode(sha256);
  }

  @Override
  public String toString() {
    return String.format("PatchRecord[%s at 0x%x, %s, %d redirects]", label(), address, state,
        redirects.size());
  }
}

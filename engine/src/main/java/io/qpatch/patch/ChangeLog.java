package io.qpatch.patch;

import io.qpatch.error.QpatchException;
import io.qpatch.sys.UnixDatagram;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Writes every change a patch command makes to the system log, as syslog(3) does: one
 * datagram to {@code /dev/log} in the BSD format (RFC 3164: {@code <PRI>Mmm dd hh:mm:ss
 * qpatch[PID]: MESSAGE}), facility user, severity notice. Who (the user, and the one
 * behind sudo), which process, which patch (name, SHA-256, path), the state before and
 * after. Nothing is written when there is no syslog socket; a failed write never fails
 * the change it reports.
 *
 * <p>The socket is {@code /dev/log} unless the system property {@code qpatch.syslog}
 * names another (tests bind their own).
 */
final class ChangeLog {
  /** LOG_USER (1 << 3) | LOG_NOTICE (5), {@code <syslog.h>}. */
  private static final int PRIORITY = 8 + 5;
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ROOT);

  private ChangeLog() {}

  /** Logs that {@code record}'s patch went from {@code before} to {@code after} in process {@code pid}. */
  static void changed(int pid, PatchRecord record, String before, String after) {
    String socket = System.getProperty("qpatch.syslog", "/dev/log");
    if (!Files.exists(Path.of(socket))) return;
    String message = "user=" + user() + " pid=" + pid + " comm=" + command(pid) + " patch=" + record.name()
        + " sha256=" + record.hash() + " path=" + record.path() + " before=" + before + " after=" + after;
    String line = "<" + PRIORITY + ">" + STAMP.format(LocalDateTime.now()) + " qpatch[" + ProcessHandle.current().pid()
        + "]: " + message;
    try (UnixDatagram out = UnixDatagram.open()) {
      out.send(socket, line.getBytes(StandardCharsets.UTF_8));
    } catch (QpatchException e) {
      // no one listening at the socket (syslogd stopped): the change itself stands
    }
  }

  private static String user() {
    String user = System.getProperty("user.name", "?");
    String sudo = System.getenv("SUDO_USER");
    return sudo == null || sudo.isEmpty() ? user : user + "(sudo:" + sudo + ")";
  }

  /** /proc/PID/comm, spaces replaced so that the line stays key=value. */
  private static String command(int pid) {
    return io.qpatch.proc.Target.command(pid).replace(' ', '_');
  }
}

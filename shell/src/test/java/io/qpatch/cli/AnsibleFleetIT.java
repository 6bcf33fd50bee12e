package io.qpatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qpatch.testing.Fixtures;
import io.qpatch.testing.LiveProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Ansible collection in ansible/, run for real with Debian's ansible-core: installed
 * with ansible-galaxy, its playbooks run against an inventory of three hosts, one reached
 * over ssh (an sshd started here on a loopback port with throwaway keys), two with the
 * local connection. All three are this machine, so each host patches its own processes:
 * two of its own copy of the target program (qpatch selects by file identity). Check mode
 * changes no process, the first run changes every host, the second none, the rollback
 * playbook gives every process its old code back.
 */
class AnsibleFleetIT {
  private static final Path REPO = Prerequisites.repo();
  private static final Pattern RECAP =
      Pattern.compile("^(\\S+)\\s+: ok=(\\d+)\\s+changed=(\\d+)\\s+unreachable=(\\d+)\\s+failed=(\\d+)", Pattern.MULTILINE);
  private static final List<String> HOSTS = List.of("remote", "local1", "local2");

  @TempDir Path tmp;

  record Run(int exit, String out) {}

  @Test
  void playbooks_patch_every_host_once_idempotently_check_mode_changes_nothing_and_roll_back() throws Exception {
    Prerequisites.require("ansible-playbook", "apt-get install ansible-core");
    Prerequisites.require("ansible-test", "apt-get install ansible-core");
    Prerequisites.require("ssh", "apt-get install openssh-client");
    Prerequisites.requireFile(Path.of("/usr/sbin/sshd"), "apt-get install openssh-server");
    Path exe = Fixtures.c("ansible-target", FleetPatchTest.PROGRAM.replace("int value(void);",
        "__attribute__((noipa)) int helper(void) { return 1; }\n__attribute__((noipa)) int value(void) { volatile int k = 0; return helper() + k; }"),
        "-O2");
    // calls the target's own helper(): a process without one (the sleep below) refuses it
    Path patch = Fixtures.object("ansible-fix", "int helper(void);\nint value(void) { return helper() + 1; }\n", "-O2");
    List<LiveProcess> procs = new ArrayList<>();
    Process sshd = null;
    try {
      Map<String, Path> exes = new LinkedHashMap<>();
      for (String host : HOSTS) {
        Path copy = tmp.resolve("target-" + host);
        Files.copy(exe, copy);
        copy.toFile().setExecutable(true);
        exes.put(host, copy);
        for (int i = 0; i < 2; i++) procs.add(LiveProcess.start(tmp.resolve(host + i + ".out"), copy.toString()));
      }
      for (LiveProcess p : procs) p.awaitOutput(o -> o.contains("value=1\n"), Duration.ofSeconds(10));
      int port = freePort();
      sshd = startSshd(port);
      Path inventory = inventory(port, exes);
      Run install = run(List.of("ansible-galaxy", "collection", "install", REPO.resolve("ansible").toString(),
          "-p", tmp.resolve("collections").toString()));
      assertEquals(0, install.exit(), install.out());
      Run doc = run(List.of("ansible-doc", "-t", "module", "qpatch.live.patch", "--json"));
      assertEquals(0, doc.exit(), "DOCUMENTATION, EXAMPLES and RETURN parse: " + doc.out());
      Run sanity = sanity(tmp.resolve("collections/ansible_collections/qpatch/live"));
      assertEquals(0, sanity.exit(), sanity.out());

      Run check = playbook("patch-fleet.yml", inventory, patch, "--check", "-v");
      assertEquals(0, check.exit(), check.out());
      assertEquals(HOSTS, hostsWhere(check.out(), r -> r.failed == 0 && r.unreachable == 0), check.out());
      for (String host : HOSTS) { // each host's dry run would change both its processes
        assertTrue(check.out().lines().anyMatch(l -> l.startsWith("changed: [" + host + "] => ") && l.contains("\"dry_run\": true")
            && l.contains("\"selected\": 2") && l.contains("\"changed\": 2,")), host + ": " + check.out());
      }
      for (LiveProcess p : procs) {
        awaitAfter(p, "value=1\n");
        assertFalse(Files.readString(Path.of("/proc/" + p.pid() + "/maps")).contains("qpatch"), "check mode wrote nothing");
      }

      Run first = playbook("patch-fleet.yml", inventory, patch);
      assertEquals(0, first.exit(), first.out());
      assertEquals(HOSTS, hostsWhere(first.out(), r -> r.changed > 0 && r.failed == 0), first.out());
      for (LiveProcess p : procs) awaitAfter(p, "value=2\n");

      Run second = playbook("patch-fleet.yml", inventory, patch);
      assertEquals(0, second.exit(), second.out());
      assertEquals(HOSTS, hostsWhere(second.out(), r -> r.changed == 0 && r.failed == 0), "nothing left to change: " + second.out());

      Run back = playbook("rollback-fleet.yml", inventory, patch);
      assertEquals(0, back.exit(), back.out());
      assertEquals(HOSTS, hostsWhere(back.out(), r -> r.changed == 1 && r.failed == 0), back.out());
      for (LiveProcess p : procs) awaitAfter(p, "value=1\n");

      // a host where a selected process refuses the patch (sleep(1) has no helper()) fails, is
      // rolled back by the rescue, and the others keep their patch
      LiveProcess sleeper = LiveProcess.start(tmp.resolve("sleep.out"), "sleep", "1000");
      procs.add(sleeper);
      Path mixed = tmp.resolve("inventory-mixed");
      Files.writeString(mixed, "[all]\nlocal1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3 target_exe="
          + exes.get("local1") + " patch_dir=" + tmp.resolve("objects-local1") + "\n"
          + "broken ansible_connection=local ansible_python_interpreter=/usr/bin/python3 target_pids=[" + sleeper.pid() + "]"
          + " patch_dir=" + tmp.resolve("objects-broken") + "\n");
      Run failing = playbook("patch-fleet.yml", mixed, patch);
      assertTrue(failing.exit() != 0, failing.out());
      Matcher broken = Pattern.compile("^broken\\s+: .*failed=1\\s+skipped=0\\s+rescued=1", Pattern.MULTILINE).matcher(failing.out());
      assertTrue(broken.find(), "the broken host fails after its rescue: " + failing.out());
      assertTrue(failing.out().contains("the patch failed here and was rolled back"), failing.out());
      assertTrue(failing.out().contains("pid " + sleeper.pid() + ": " + tmp.resolve("objects-broken").resolve(patch.getFileName())
          + ": undefined symbol 'helper' not found in process "
          + sleeper.pid()), "the process and why: " + failing.out());
      for (LiveProcess p : procs.subList(2, 4)) awaitAfter(p, "value=2\n");
      Run undo = playbook("rollback-fleet.yml", mixed, patch);
      assertEquals(0, undo.exit(), undo.out());
      for (LiveProcess p : procs.subList(2, 4)) awaitAfter(p, "value=1\n");
      for (LiveProcess p : procs) assertTrue(p.isAlive(), p.output());
    } finally {
      for (LiveProcess p : procs) p.close();
      if (sshd != null) {
        sshd.destroy();
        sshd.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * The ansible-test sanity tests that run offline (the others install their tools into a
   * virtualenv from the network first: ansible-doc, import, pep8, pylint, validate-modules,
   * yamllint, runtime-metadata, shellcheck, pslint).
   */
  private static final List<String> OFFLINE_SANITY = List.of("action-plugin-docs", "compile", "empty-init",
      "future-import-boilerplate", "line-endings", "metaclass-boilerplate", "no-assert", "no-basestring",
      "no-dict-iteritems", "no-dict-iterkeys", "no-dict-itervalues", "no-get-exception", "no-illegal-filenames",
      "no-main-display", "no-smart-quotes", "no-unicode-literals", "replace-urlopen", "shebang", "symlinks",
      "use-argspec-type-path", "use-compat-six");

  private Run sanity(Path collection) {
    List<String> cmd = new ArrayList<>(List.of("ansible-test", "sanity", "--python",
        "3." + run(List.of("/usr/bin/python3", "-c", "import sys; print(sys.version_info[1])")).out().strip()));
    for (String t : OFFLINE_SANITY) cmd.addAll(List.of("--test", t));
    ProcessBuilder b = new ProcessBuilder(cmd).redirectErrorStream(true).directory(collection.toFile());
    return run(b);
  }

  private record Recap(String host, int ok, int changed, int unreachable, int failed) {}

  /** The hosts of the PLAY RECAP that {@code test} accepts, in {@link #HOSTS} order. */
  private static List<String> hostsWhere(String out, java.util.function.Predicate<Recap> test) {
    Map<String, Recap> recap = new LinkedHashMap<>();
    Matcher m = RECAP.matcher(out);
    while (m.find()) {
      recap.put(m.group(1), new Recap(m.group(1), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
          Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5))));
    }
    return HOSTS.stream().filter(h -> recap.containsKey(h) && test.test(recap.get(h))).toList();
  }

  private Run playbook(String name, Path inventory, Path patch, String... more) {
    List<String> cmd = new ArrayList<>(List.of("ansible-playbook", "-i", inventory.toString(),
        REPO.resolve("ansible/playbooks/" + name).toString(), "-e", "patch_object=" + patch,
        "-e", "qpatch=" + REPO.resolve("qpatch")));
    cmd.addAll(List.of(more));
    return run(cmd);
  }

  private Path inventory(int port, Map<String, Path> exes) throws IOException {
    StringBuilder s = new StringBuilder("[all]\n");
    for (String host : HOSTS) {
      s.append(host).append(" target_exe=").append(exes.get(host)).append(" patch_dir=").append(tmp.resolve("objects-" + host))
          .append(" ansible_python_interpreter=/usr/bin/python3");
      if (host.equals("remote")) {
        s.append(" ansible_host=127.0.0.1 ansible_port=").append(port).append(" ansible_user=root")
            .append(" ansible_ssh_private_key_file=").append(tmp.resolve("userkey"))
            .append(" ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'");
      } else {
        s.append(" ansible_connection=local");
      }
      s.append('\n');
    }
    Path inv = tmp.resolve("inventory");
    Files.writeString(inv, s);
    return inv;
  }

  /** An sshd of our own on 127.0.0.1:{@code port}: throwaway host and user keys, keys only, no PAM. */
  private Process startSshd(int port) throws Exception {
    run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", tmp.resolve("hostkey").toString()));
    run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", tmp.resolve("userkey").toString()));
    Files.copy(tmp.resolve("userkey.pub"), tmp.resolve("authorized_keys"));
    Path config = tmp.resolve("sshd_config");
    Files.writeString(config, String.join("\n",
        "Port " + port, "ListenAddress 127.0.0.1", "HostKey " + tmp.resolve("hostkey"),
        "AuthorizedKeysFile " + tmp.resolve("authorized_keys"), "PidFile " + tmp.resolve("sshd.pid"),
        "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "UsePAM no", "StrictModes no", "Subsystem sftp internal-sftp", ""));
    Files.createDirectories(Path.of("/run/sshd")); // its privilege-separation directory
    Process sshd = new ProcessBuilder("/usr/sbin/sshd", "-D", "-e", "-f", config.toString())
        .redirectErrorStream(true).redirectOutput(tmp.resolve("sshd.log").toFile()).start();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return sshd;
      } catch (IOException e) {
        if (!sshd.isAlive()) break;
        Thread.sleep(50);
      }
    }
    throw new AssertionError("sshd did not listen on port " + port + ": " + Files.readString(tmp.resolve("sshd.log")));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private Run run(List<String> cmd) {
    return run(new ProcessBuilder(cmd).redirectErrorStream(true).directory(tmp.toFile()));
  }

  private Run run(ProcessBuilder b) {
    List<String> cmd = b.command();
    Map<String, String> env = b.environment();
    env.put("ANSIBLE_COLLECTIONS_PATH", tmp.resolve("collections").toString());
    env.put("ANSIBLE_NOCOLOR", "1");
    env.put("ANSIBLE_LOCAL_TEMP", tmp.resolve("ansible-local").toString());
    env.put("ANSIBLE_REMOTE_TEMP", tmp.resolve("ansible-remote").toString());
    try {
      Process p = b.start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(300, TimeUnit.SECONDS), "did not finish: " + cmd);
      return new Run(p.exitValue(), out);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static void awaitAfter(LiveProcess p, String text) {
    int from = p.output().length();
    p.awaitOutput(o -> o.indexOf(text, from) >= 0, Duration.ofSeconds(10));
  }
}

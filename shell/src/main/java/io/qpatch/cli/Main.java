package io.qpatch.cli;

/**
 * Entry point of the runnable jar: {@code java -jar qpatch.jar qpatch|gotrace ARGS...}.
 * The launchers at the repository root pass the tool name first.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    if (args.length == 1 && args[0].equals(AotTraining.ARGUMENT)) {
      AotTraining.run();
      return;
    }
    System.exit(new Cli(Io.system(), Commands::forThisBuild).run(args));
  }
}

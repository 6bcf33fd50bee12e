package io.qpatch.cli;

/** Entry point of the runnable jar: {@code java -jar qpatch.jar qpatch|gotrace ARGS...}. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.out.println("qpatch skeleton");
  }
}

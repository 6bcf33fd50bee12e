/*
 * Placeholder object proving the native-helper build: the engine loads it
 * with its own .o loader once the link layer exists. It returns a magic
 * value so a test can call it remotely and check the result.
 */
long qpatch_helper_magic(void) { return 0x71706174636800L; /* "qpatch\0" */ }

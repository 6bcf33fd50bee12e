# Shared by ./qpatch (./gotrace is a symlink to it) and ./run-tests: messages and
# finding a JDK >= 25. Sourced, not run; the caller sets QPATCH_TOOL. Functions return
# through variables rather than $(...), which forks: the launcher runs on every call.

qpatch_die() {
  echo "${QPATCH_TOOL:-qpatch}: $*" >&2
  exit 1
}

# Sets jdk_version to the feature version (17, 25 ...) of the JDK at $1, or 0 if it is
# none. Reads $1/release (every JDK since 9 has it) rather than running `java -version`,
# which costs a JVM start; falls back to that when there is no release file.
qpatch_jdk_version() {
  local home=$1 line
  jdk_version=0
  [ -x "$home/bin/java" ] || return 0
  if [ -r "$home/release" ]; then
    while IFS= read -r line; do
      if [[ $line =~ ^JAVA_VERSION=\"([0-9]+) ]]; then
        jdk_version=${BASH_REMATCH[1]}
        return 0
      fi
    done <"$home/release"
  fi
  line=$("$home/bin/java" -version 2>&1 | head -1)
  [[ $line =~ version\ \"([0-9]+) ]] && jdk_version=${BASH_REMATCH[1]}
  return 0
}

# Sets java_home and java_version to a JDK >= 25: $QPATCH_JAVA_HOME or $JAVA_HOME if it
# is one, else the highest version under /usr/lib/jvm. Fails if there is none.
qpatch_find_jdk() {
  local home
  java_home= java_version=0
  for home in "${QPATCH_JAVA_HOME:-}" "${JAVA_HOME:-}"; do
    [ -n "$home" ] || continue
    qpatch_jdk_version "$home"
    if [ "$jdk_version" -ge 25 ]; then
      java_home=${home%/} java_version=$jdk_version
      return 0
    fi
  done
  for home in /usr/lib/jvm/*; do
    qpatch_jdk_version "$home"
    if [ "$jdk_version" -gt "$java_version" ]; then
      java_home=$home java_version=$jdk_version
    fi
  done
  [ "$java_version" -ge 25 ]
}

QPATCH_NO_JDK="no JDK >= 25 found (looked at \$JAVA_HOME and /usr/lib/jvm/*): install one, e.g. Temurin 25 (apt-get install temurin-25-jdk from packages.adoptium.net), or point JAVA_HOME at it"

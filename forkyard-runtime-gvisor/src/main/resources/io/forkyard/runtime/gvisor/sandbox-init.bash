# PID 1 of a forkyard gVisor sandbox (run by bash; $1 is the memory limit in KiB).
#
# It keeps the sandbox up, reaps orphans (bash reaps every child on SIGCHLD), and acts as the
# sandbox's OOM killer. gVisor has none: its kernel never refuses or reclaims memory, so past the
# limit the host cgroup kills a ptrace stub and runsc then kills the whole sandbox. This loop kills
# the largest process first, once the memory the gVisor kernel reports in use (processes and the
# files in the memory overlay) passes the limit. It polls, slowly while use is low, so memory that
# grows faster than it looks (hundreds of MiB within a second) can still reach the host limit.
#
# It never forks while it waits: each fork costs a ptrace stub and milliseconds of CPU.
trap '' TERM INT HUP
lim=$1
exec 3<> <(:) # a pipe nobody writes to: `read -t` on it sleeps without a fork

kill_largest() {
  local d p r best=0 victim= st comm
  for d in /proc/[1-9]*; do
    p=${d#/proc/}
    ((p == 1)) && continue
    { read -r _ r _ <"$d/statm"; } 2>/dev/null || continue
    ((r > best)) && best=$r victim=$p
  done
  # Below 8 MiB resident are shells, sleeps and forkyard's helpers: killing them frees nothing.
  ((best * 4 >= 8192)) || return 1
  { read -r st <"/proc/$victim/stat" && read -r comm <"/proc/$victim/comm"; } 2>/dev/null || return 1
  st=${st##*) }
  set -- $st # state ppid pgrp ...
  kill -9 "$victim" 2>/dev/null || return 1
  # One file per process group: the exec wrapper of that command prints it on its stderr.
  printf 'forkyard: killed process %s (%s, %s MiB resident): the sandbox used %s MiB of memory, more than its limit of %s MiB (memoryMb)\n' \
    "$victim" "$comm" $((best * 4 / 1024)) $((used / 1024)) $((lim / 1024)) >>"/run/forkyard/oom/$3"
}

while :; do
  # One buffered read and a regex: every syscall here costs tens of microseconds under ptrace.
  read -r -d '' -N 100 m </proc/meminfo
  if [[ $m =~ MemTotal:\ +([0-9]+).*MemFree:\ +([0-9]+) ]]; then
    used=$((BASH_REMATCH[1] - BASH_REMATCH[2]))
  else
    used=0
  fi
  if ((used > lim)); then
    # After a kill, give the victim's memory time to go; with nothing to kill (files fill the
    # memory), look again only now and then.
    if kill_largest; then read -t 0.1 -u 3; else read -t 1 -u 3; fi
  elif ((used * 4 > lim * 3)); then
    read -t 0.02 -u 3
  elif ((used * 2 > lim)); then
    read -t 0.1 -u 3
  else
    # Idle sandboxes wake once a second (about 1.5 ms of CPU each time under ptrace).
    read -t 1 -u 3
  fi
done

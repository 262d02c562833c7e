# shellcheck shell=bash
# Processes that test servers start and stop by recorded PID, never by name. Source it; set `prog`
# first to name the caller in warnings.
#
# A recorded process is a PID file plus a start-time file (field 22 of /proc/PID/stat), so a PID the
# kernel reused for another process is never taken for ours. A zombie counts as gone (PID 1 may
# reap late).
#
#   proc_launch PID_FILE START_FILE LOG CMD...  start CMD detached (own session, no terminal, stdout
#                                               and stderr appended to LOG), record it; PROC_PID is its PID
#   proc_record PID_FILE START_FILE PID         record PID (it may have exited already)
#   proc_recorded PID_FILE START_FILE           print the PID if the recorded process still runs
#   proc_forget PID_FILE START_FILE             remove the record
#   proc_terminate PID...                       TERM them and their children, wait up to 5 s, KILL
#                                               what is left, wait up to 5 s more
#   proc_alive PID, proc_children PID, proc_start_time PID, proc_wait_gone TIMEOUT_S PID..., proc_now_ms

# proc_field PID N -> field N of /proc/PID/stat (N >= 3); builtins only (this runs a lot)
proc_field() {
  local s f; read -r s 2>/dev/null <"/proc/$1/stat" || return 1
  s=${s##*) }; read -ra f <<<"$s"; echo "${f[$2 - 3]}"
}
proc_start_time() { proc_field "$1" 22; }
proc_alive() { local s; s=$(proc_field "$1" 3) || return 1; [[ $s != Z && $s != X ]]; }
proc_children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }
proc_now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }

proc_record() { echo "$3" >"$1"; proc_start_time "$3" >"$2" || true; }
proc_forget() { rm -f "$1" "$2"; }

# A PID file without a start file was written by the process itself (e.g. a fault server started
# with --pidfile FILE): it is accepted only while that process's command line names FILE.
proc_recorded() {
  local pid_file=$1 start_file=$2 pid start
  read -r pid 2>/dev/null <"$pid_file" || return 1
  [[ $pid =~ ^[0-9]+$ ]] && proc_alive "$pid" || return 1
  if [[ -f $start_file ]]; then
    read -r start <"$start_file" || start=
    [[ $(proc_start_time "$pid") == "$start" ]] || return 1
  else
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$pid_file" || return 1
  fi
  echo "$pid"
}

proc_launch() {
  local pid_file=$1 start_file=$2 log=$3; shift 3
  # The server gets no descriptor above 2: an inherited lock (sandbox.sh's, a test's, or a caller's
  # `flock FILE sandbox.sh start`) would otherwise stay held for as long as the server runs.
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-"
    done 2>/dev/null
    exec setsid "$@" </dev/null >>"$log" 2>&1
  ) &
  PROC_PID=$!  # the subshell execs setsid, which execs in place (no group leader): $! is the server
  proc_record "$pid_file" "$start_file" "$PROC_PID"
}

# proc_wait_gone TIMEOUT_S PID... ; returns 1 if some still run (TIMEOUT_S may not be fractional)
proc_wait_gone() {
  local deadline=$(($(proc_now_ms) + $1 * 1000)) pid left; shift
  while :; do
    left=()
    for pid in "$@"; do proc_alive "$pid" && left+=("$pid"); done
    ((${#left[@]} == 0)) && return 0
    (($(proc_now_ms) >= deadline)) && return 1
    sleep 0.01
  done
}

proc_terminate() {
  local pids=() pid child
  for pid in "$@"; do pids+=("$pid"); for child in $(proc_children "$pid"); do pids+=("$child"); done; done
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  proc_wait_gone 5 "${pids[@]}" && return 0
  for pid in "${pids[@]}"; do proc_alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
  proc_wait_gone 5 "${pids[@]}" || echo "${prog:-procs.sh}: warning: could not stop ${pids[*]}" >&2
}

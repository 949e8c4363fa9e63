#!/usr/bin/env bash
# A single-node Slurm cluster from Debian's packages, without systemd, for tests: its own
# munge key and socket, its own ports, everything under DIR, torn down by the PIDs it
# started. Clients use it with SLURM_CONF=DIR/slurm.conf (printed by start).
#
# Usage: scripts/slurm-cluster.sh start DIR     (prints export SLURM_CONF=...)
#        scripts/slurm-cluster.sh stop DIR
set -euo pipefail
cmd=${1:?usage: slurm-cluster.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: slurm-cluster.sh start|stop DIR}")
node=cbnode
host=$(hostname -s) # slurmctld only runs where SlurmctldHost names this host
t() { timeout 20 "$@"; } # every client call is bounded: a wedged daemon must not hang CI

stop() {
  for p in slurmd slurmctld munged; do
    [ -f "$dir/$p.pid" ] || continue
    pid=$(cat "$dir/$p.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/$p.pid"
  done
}

case "$cmd" in
stop) stop; exit 0 ;;
start) ;;
*) echo "usage: slurm-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac

for b in munged slurmctld slurmd sbatch sinfo; do
  command -v "$b" >/dev/null || { echo "slurm-cluster: $b missing (apt-get install slurmctld slurmd slurm-client munge)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "slurm-cluster: must run as root (munged and slurmd need it)" >&2; exit 2; }
mkdir -p "$dir"/{munge,state,spool,logs}
chmod 755 "$dir" "$dir/munge"
head -c 1024 /dev/urandom > "$dir/munge.key"
chmod 400 "$dir/munge.key"
socket=$dir/munge/munge.socket
# Daemons get no terminal: their output goes to logs, so a caller reading ours is not held open.
munged --foreground --force --socket="$socket" --key-file="$dir/munge.key" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/logs/munged.log" --seed-file="$dir/munge/munge.seed" \
  < /dev/null > "$dir/logs/munged.out" 2>&1 &
echo $! > "$dir/munged.pid"
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { echo "slurm-cluster: munged did not start (see $dir/logs/munged.log)" >&2; stop; exit 1; }

# Ports derived from the folder, so clusters of two concurrent runs do not collide.
base=$((20000 + $(echo -n "$dir" | cksum | cut -d' ' -f1) % 20000))
hw=$(slurmd -C | head -n 1 | sed "s/^NodeName=[^ ]*//; s/UpTime=.*//")
cat > "$dir/slurm.conf" <<CONF
ClusterName=charisbench
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/state/slurmctld.pid
SlurmdPidFile=$dir/spool/slurmd.pid
SlurmctldLogFile=$dir/logs/slurmctld.log
SlurmdLogFile=$dir/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/logs/jobcomp.txt
MinJobAge=5
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
NodeName=$node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=main Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -D -f "$SLURM_CONF" < /dev/null > "$dir/logs/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.pid"
slurmd -D -N "$node" -f "$SLURM_CONF" < /dev/null > "$dir/logs/slurmd.out" 2>&1 &
echo $! > "$dir/slurmd.pid"
for _ in $(seq 100); do
  if t sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.1
done
echo "slurm-cluster: the node did not become idle in 10 s; logs in $dir/logs" >&2
tail -n 20 "$dir"/logs/*.log >&2 || true
stop
exit 1

#!/usr/bin/env bash
# The test sandbox: the field report's split-horizon world on 127.x loopback addresses, made of
# real dnsmasq and nginx processes and two coderd stand-ins (coderd_standin.py) that this script
# starts and stops by recorded PID. nginx is the ingress: a TLS reverse proxy to a stand-in.
#
#   sandbox.sh start WORLD    start everything for WORLD (quiet on success)
#   sandbox.sh switch WORLD   change the running sandbox to WORLD in place (< 1 s)
#   sandbox.sh stop           stop the recorded processes and wait until they are gone
#   sandbox.sh status         which recorded processes run (exit 0 all, 1 some, 3 none)
#   sandbox.sh worlds         list the worlds
#
# WORLD is a name from tests/sandbox/worlds/ (NAME.world), or several joined with '+'
# (e.g. field-report+aaaa-mismatch), applied left to right over the healthy defaults.
# State (configs, pid files, logs, CA, resolv.conf, env, nginx temp paths) lives in
# $CDD_SANDBOX_DIR, default <repo>/.sandbox. Never sends traffic outside 127.0.0.0/8.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../lib/tls.sh
source "$here/../lib/tls.sh"
# shellcheck source=../lib/procs.sh
source "$here/../lib/procs.sh"
DIR=${CDD_SANDBOX_DIR:-$repo/.sandbox}
prog=sandbox.sh

# ---- The fixed world -------------------------------------------------------------------------
CLUSTER_DNS=127.0.0.10
UPSTREAM_DNS=127.0.50.53
PUBLIC_DNS=127.0.52.53
INGRESS_IP=127.0.50.101
STALE_IP=127.0.50.100
CLUSTER_IP=127.0.209.202
CODERD_POD_IP=127.0.209.210   # the coderd pod behind the ingress (the ingress's upstream)
SHADOW_IP=127.0.66.66
HTTPS_PORT=18443
HTTP_PORT=18080
EXTERNAL_HOST=coder.example.test
INTERNAL_HOST=coder.coder.svc.cluster.local
CODER_VERSION=v2.18.0

STANDIN=$here/coderd_standin.py
PYTHON=python3
[[ -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3  # stdlib only; skips a pyenv shim's start-up

DNS_NAMES=(dns-cluster dns-upstream dns-public)
CODERD_NAMES=(coderd-ingress coderd-clusterip)
ALL_NAMES=("${DNS_NAMES[@]}" "${CODERD_NAMES[@]}" nginx)
declare -A ADDR=([dns-cluster]=$CLUSTER_DNS [dns-upstream]=$UPSTREAM_DNS [dns-public]=$PUBLIC_DNS
  [coderd-ingress]=$CODERD_POD_IP [coderd-clusterip]=$CLUSTER_IP)

# ---- World switches (defaults = the healthy world; worlds/*.world override some) -------------
world_defaults() {
  W_CLUSTER_RECORD=$CLUSTER_IP       # A of coder.coder.svc.cluster.local; empty = NXDOMAIN
  W_CLUSTER_SHADOW=                  # A for example.test.coder.svc.cluster.local and below
  W_CLUSTER_TTL=5
  W_UPSTREAM_A=$INGRESS_IP           # the node's LAN resolver's answer for coder.example.test
  W_UPSTREAM_AAAA=                   # AAAA there too (empty = none)
  W_UPSTREAM_TTL=30
  W_PUBLIC_A=$INGRESS_IP             # public DNS's answer
  W_PUBLIC_TTL=300
  W_INGRESS_STATUS=200               # not 200: the ingress itself answers every path with it (502: bad backend)
  W_INGRESS_DEPLOYMENT_ID=dep-sandbox-1  # the deployment behind the ingress (stand-in coderd-ingress)
  W_CLUSTERIP_STATUS=200             # /healthz and /api/v2/buildinfo status at the Coder Service's ClusterIP
  W_CLUSTERIP_DEPLOYMENT_ID=dep-sandbox-1  # (stand-in coderd-clusterip)
  W_INGRESS_REACHABLE=1              # 0: nothing listens at the ingress address (hairpin: refused from inside)
  W_INGRESS_UPGRADE=all              # what the ingress forwards: all (Upgrade/Connection, as ingress-nginx),
                                     # websocket (only Upgrade: websocket; Upgrade: DERP is dropped),
                                     # none (a plain HTTP/1.0 reverse proxy: no upgrades at all)
  W_INGRESS_READ_TIMEOUT=60          # the ingress's proxy_read_timeout/proxy_send_timeout, whole seconds
  W_DERP_KEEPALIVE=60                # the stand-ins' DERP keepalive interval, seconds
  W_CODERD_SLIM=0                    # 1: the stand-ins are "slim" builds (/bin/coder-linux-* is 404)
  W_STALE_SITE=0                     # 1: a non-coderd site (200 HTML) listens at the stale address
  W_HOSTS_EXTERNAL=                  # an /etc/hosts entry for coder.example.test in $DIR/hosts (empty = none)
  W_CLUSTER_EXTERNAL=                # the cluster DNS's own record for coder.example.test (empty = forwarded)
}
WORLD_VARS=(CLUSTER_RECORD CLUSTER_SHADOW CLUSTER_TTL UPSTREAM_A UPSTREAM_AAAA UPSTREAM_TTL
  PUBLIC_A PUBLIC_TTL INGRESS_STATUS INGRESS_DEPLOYMENT_ID CLUSTERIP_STATUS CLUSTERIP_DEPLOYMENT_ID
  INGRESS_REACHABLE HOSTS_EXTERNAL CLUSTER_EXTERNAL INGRESS_UPGRADE INGRESS_READ_TIMEOUT DERP_KEEPALIVE
  CODERD_SLIM STALE_SITE)

die() { echo "$prog: $*" >&2; exit 1; }

load_world() {
  local world=$1 part parts
  [[ -n $world ]] || die "missing WORLD (one of: $(list_worlds | paste -sd' '))"
  world_defaults
  IFS=+ read -ra parts <<<"$world"
  for part in "${parts[@]}"; do
    [[ $part =~ ^[a-z0-9-]+$ && -f $here/worlds/$part.world ]] ||
      die "unknown world '$part' (one of: $(list_worlds | paste -sd' '))"
    # shellcheck disable=SC1090
    source "$here/worlds/$part.world"
  done
  [[ $W_INGRESS_UPGRADE =~ ^(all|websocket|none)$ ]] || die "W_INGRESS_UPGRADE must be all, websocket or none"
  [[ $W_INGRESS_READ_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "W_INGRESS_READ_TIMEOUT must be whole seconds"
  [[ $W_DERP_KEEPALIVE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "W_DERP_KEEPALIVE must be seconds"
  return 0
}

list_worlds() { local f; for f in "$here"/worlds/*.world; do basename "$f" .world; done; }

# ---- Processes -------------------------------------------------------------------------------
# $DIR/run/NAME.pid holds the PID, NAME.start its start time (tests/lib/procs.sh).
recorded_pid() { proc_recorded "$DIR/run/$1.pid" "$DIR/run/$1.start"; }  # NAME -> PID while it runs
forget() { proc_forget "$DIR/run/$1.pid" "$DIR/run/$1.start"; }
# launch NAME LOG CMD... : start CMD detached, record its PID
launch() { local name=$1 log=$2; shift 2; proc_launch "$DIR/run/$name.pid" "$DIR/run/$name.start" "$log" "$@"; }

log_tail() { tail -n 5 "$1" 2>/dev/null | sed 's/^/    /' >&2 || true; }

# ---- Port checks -----------------------------------------------------------------------------
# port_owner PROTO ADDR PORT -> " by NAME (pid N) on LOCAL" if ADDR:PORT or a wildcard is bound
port_owner() {
  local proto=$1 addr=$2 port=$3 flag=t
  [[ $proto == udp ]] && flag=u
  ss -Hln${flag}p 2>/dev/null | awk -v a="$addr:$port" -v w1="0.0.0.0:$port" -v w2="*:$port" '
    $4 == a || $4 == w1 || $4 == w2 {
      who = ""
      if (match($0, /users:\(\("[^"]*",pid=[0-9]+/)) {
        s = substr($0, RSTART + 9, RLENGTH - 9); split(s, p, "\",pid=")
        who = " by " p[1] " (pid " p[2] ")"
      }
      print who " on " $4; exit
    }'
}

check_ports() {
  local proto addr port owner busy=()
  for addr in "$CLUSTER_DNS" "$UPSTREAM_DNS" "$PUBLIC_DNS"; do
    for proto in udp tcp; do
      owner=$(port_owner "$proto" "$addr" 53)
      [[ -z $owner ]] || busy+=(" $addr:53/$proto is already in use$owner")
    done
  done
  local tcp=("$INGRESS_IP:$HTTPS_PORT" "$INGRESS_IP:$HTTP_PORT" "$CLUSTER_IP:$HTTP_PORT" "$CODERD_POD_IP:$HTTP_PORT")
  [[ $W_STALE_SITE != 1 ]] || tcp+=("$STALE_IP:$HTTPS_PORT" "$STALE_IP:$HTTP_PORT")
  for addr in "${tcp[@]}"; do
    owner=$(port_owner tcp "${addr%:*}" "${addr##*:}")
    [[ -z $owner ]] || busy+=(" $addr/tcp is already in use$owner")
  done
  local IFS=';'
  ((${#busy[@]} == 0)) || die "cannot start:${busy[*]}"
}

# ---- TLS -------------------------------------------------------------------------------------
ensure_tls() {
  mkdir -p "$DIR/tls"
  if [[ ! -s $DIR/ca.pem || ! -s $DIR/ca.key ]]; then
    tls_ca "$DIR/ca.key" "$DIR/ca.pem" "coder-dns-doctor sandbox CA" 3650 2>"$DIR/tls/openssl.log" ||
      { log_tail "$DIR/tls/openssl.log"; die "could not create the CA"; }
    rm -f "$DIR/tls/server.pem"
  fi
  if ! openssl verify -CAfile "$DIR/ca.pem" "$DIR/tls/server.pem" >/dev/null 2>&1; then
    tls_leaf "$DIR/ca.pem" "$DIR/ca.key" "$DIR/tls/server.key" "$DIR/tls/server.pem" "$EXTERNAL_HOST" \
      "DNS:$EXTERNAL_HOST" 825 >"$DIR/tls/openssl.log" 2>&1 ||
      { log_tail "$DIR/tls/openssl.log"; die "could not create the server certificate"; }
  fi
}

# ---- Configs ---------------------------------------------------------------------------------
# dnsmasq options, one per line, in $DIR/conf/NAME.args (read into argv at launch).
dnsmasq_common() {
  printf '%s\n' --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --bind-interfaces "--listen-address=$1" --port=53 --pid-file= --log-facility=- --log-async
  [[ ${CDD_SANDBOX_LOG_QUERIES:-0} == 1 ]] && echo --log-queries
  return 0
}

render_dns() {
  mkdir -p "$DIR/conf"
  {
    dnsmasq_common "$CLUSTER_DNS"
    echo "--local-ttl=$W_CLUSTER_TTL"
    echo --local=/cluster.local/                        # other cluster.local names: NXDOMAIN
    [[ -z $W_CLUSTER_RECORD ]] || echo "--host-record=$INTERNAL_HOST,$W_CLUSTER_RECORD"
    if [[ -n $W_CLUSTER_SHADOW ]]; then  # a wildcard record; --local makes AAAA NODATA, not NXDOMAIN
      echo "--address=/example.test.coder.svc.cluster.local/$W_CLUSTER_SHADOW"
      echo --local=/example.test.coder.svc.cluster.local/
    fi
    [[ -z $W_CLUSTER_EXTERNAL ]] || echo "--host-record=$EXTERNAL_HOST,$W_CLUSTER_EXTERNAL"  # a CoreDNS hosts/rewrite block
    echo "--server=$UPSTREAM_DNS"                        # everything else: the node's resolver
  } >"$DIR/conf/dns-cluster.args.new"
  {
    dnsmasq_common "$UPSTREAM_DNS"
    echo "--local-ttl=$W_UPSTREAM_TTL"
    echo --local=/#/                                    # authoritative-ish: unknown = NXDOMAIN
    echo "--host-record=$EXTERNAL_HOST,$W_UPSTREAM_A${W_UPSTREAM_AAAA:+,$W_UPSTREAM_AAAA}"
  } >"$DIR/conf/dns-upstream.args.new"
  {
    dnsmasq_common "$PUBLIC_DNS"
    echo "--local-ttl=$W_PUBLIC_TTL"
    echo --local=/#/
    echo "--host-record=$EXTERNAL_HOST,$W_PUBLIC_A"
  } >"$DIR/conf/dns-public.args.new"
}

# The coderd stand-ins' options, one per line, in $DIR/conf/NAME.args (read into argv at launch).
# coderd-ingress is the pod the ingress proxies to; coderd-clusterip answers at the Service's
# ClusterIP directly (kube-proxy is L4). The DERP key follows the deployment id.
render_coderd() {
  local name listen id status
  mkdir -p "$DIR/conf"
  for name in "${CODERD_NAMES[@]}"; do
    if [[ $name == coderd-ingress ]]; then listen=$CODERD_POD_IP id=$W_INGRESS_DEPLOYMENT_ID status=200
    else listen=$CLUSTER_IP id=$W_CLUSTERIP_DEPLOYMENT_ID status=$W_CLUSTERIP_STATUS; fi
    {
      printf '%s\n' "--listen=$listen:$HTTP_PORT" "--role=$name" "--log=$DIR/logs/$name.log" \
        "--version=$CODER_VERSION" "--deployment-id=$id" "--derp-key-seed=$id" \
        "--access-url=https://$EXTERNAL_HOST:$HTTPS_PORT" "--derp-keepalive=$W_DERP_KEEPALIVE" "--status=$status" \
        "--api-fixture=$DIR/coder-api.json"
      [[ $W_CODERD_SLIM != 1 ]] || echo --slim
    } >"$DIR/conf/$name.args.new"
  done
}

sandbox_location() {  # ROLE
  printf '%s\n' "    location = /__sandbox { return 200 'sandbox $1 nginx-config @CONFIG_ID@\n'; }"
}

# How the ingress forwards upgrades (W_INGRESS_UPGRADE); ingress-nginx's default is "all".
ingress_upgrade() {
  case $W_INGRESS_UPGRADE in
    all) printf '%s\n' "      proxy_http_version 1.1;" "      proxy_set_header Upgrade \$http_upgrade;" \
      "      proxy_set_header Connection \$connection_upgrade;" ;;
    websocket) printf '%s\n' "      proxy_http_version 1.1;  # only 'Upgrade: websocket' passes; 'Upgrade: DERP' is dropped" \
      "      proxy_set_header Upgrade \$websocket_only_upgrade;" \
      "      proxy_set_header Connection \$websocket_only_connection;" ;;
    none) echo "      # a plain reverse proxy: nginx's defaults (HTTP/1.0 upstream, Connection: close, no Upgrade)" ;;
  esac
}

# The ingress (the true load balancer): TLS reverse proxy to coderd-ingress; absent in a hairpin
# world, so its address refuses.
ingress_server() {
  [[ $W_INGRESS_REACHABLE == 1 ]] || { echo "  # ingress: not reachable in this world (hairpin)"; return 0; }
  local backend
  if [[ $W_INGRESS_STATUS == 200 ]]; then
    backend=$(cat <<EOF
      proxy_pass http://$CODERD_POD_IP:$HTTP_PORT;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Real-IP \$remote_addr;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
$(ingress_upgrade)
      proxy_connect_timeout 5s;
      proxy_read_timeout ${W_INGRESS_READ_TIMEOUT}s;
      proxy_send_timeout ${W_INGRESS_READ_TIMEOUT}s;
EOF
    )
  else
    backend="      return $W_INGRESS_STATUS;  # the ingress answers itself (no coderd behind it)"
  fi
  cat <<EOF
  # ingress (the true load balancer)
  server {
    listen $INGRESS_IP:$HTTPS_PORT ssl;
    listen $INGRESS_IP:$HTTP_PORT;
    server_name $EXTERNAL_HOST;
    ssl_certificate $DIR/tls/server.pem;
    ssl_certificate_key $DIR/tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;  # nginx 1.22's default lacks TLSv1.3
$(sandbox_location ingress)
    location / {
$backend
    }
  }
EOF
}

# A site that is not coderd at the stale address (W_STALE_SITE): same ports, a valid certificate
# for the external name, 200 HTML to everything, no identity header, no upgrades.
stale_server() {
  [[ $W_STALE_SITE == 1 ]] || return 0
  cat <<EOF
  # the stale address: another site
  server {
    listen $STALE_IP:$HTTPS_PORT ssl;
    listen $STALE_IP:$HTTP_PORT;
    server_name $EXTERNAL_HOST;
    ssl_certificate $DIR/tls/server.pem;
    ssl_certificate_key $DIR/tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
$(sandbox_location stale)
    location / {
      default_type text/html;
      return 200 '<!doctype html><html><head><title>Welcome</title></head><body><h1>It works</h1></body></html>\n';
    }
  }
EOF
}

render_nginx() {
  local n=$DIR/nginx
  mkdir -p "$n"/{body,proxy,fastcgi,uwsgi,scgi}
  cat >"$n/nginx.conf.body" <<EOF
# generated by tests/sandbox/sandbox.sh; config @CONFIG_ID@
worker_processes 1;
worker_shutdown_timeout 1s;  # a reload closes held (upgraded) connections within ~1 s
pid $n/nginx.pid;
error_log $DIR/logs/nginx-error.log warn;
events { worker_connections 1024; }
http {
  log_format sandbox '\$time_iso8601 \$server_addr:\$server_port \$remote_addr "\$request" \$status';
  access_log $DIR/logs/nginx-access.log sandbox;
  client_body_temp_path $n/body;
  proxy_temp_path $n/proxy;
  fastcgi_temp_path $n/fastcgi;
  uwsgi_temp_path $n/uwsgi;
  scgi_temp_path $n/scgi;
  default_type text/plain;
  server_tokens off;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }  # as ingress-nginx
  map \$http_upgrade \$websocket_only_upgrade { ~*^websocket\$ \$http_upgrade; default ''; }
  map \$http_upgrade \$websocket_only_connection { ~*^websocket\$ upgrade; default close; }

  # control listener: answers /__sandbox whatever the world (readiness after a reload)
  server {
    listen unix:$n/control.sock;
$(sandbox_location control)
    location / { return 404; }
  }

$(ingress_server)
$(stale_server)
}
EOF
}

# nginx_install_config: true (and a new config id) if the rendered config differs from the running one
nginx_install_config() {
  local n=$DIR/nginx id=0
  if [[ -f $n/nginx.conf.running && -f $n/config-id ]] && cmp -s "$n/nginx.conf.body" "$n/nginx.conf.running"; then
    return 1
  fi
  [[ -f $n/config-id ]] && id=$(<"$n/config-id")
  id=$((id + 1))
  echo "$id" >"$n/config-id"
  sed "s/@CONFIG_ID@/$id/g" "$n/nginx.conf.body" >"$n/nginx.conf"
  cp "$n/nginx.conf.body" "$n/nginx.conf.running"
  return 0
}

write_env() {
  local world=$1 v
  printf 'nameserver %s\nsearch coder.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' \
    "$CLUSTER_DNS" >"$DIR/resolv.conf"
  # the pod's hosts file and lookup order (as Kubernetes writes them; hostAliases appended)
  {
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
    [[ -z $W_HOSTS_EXTERNAL ]] || printf '# Entries added by HostAliases.\n%s\t%s\n' "$W_HOSTS_EXTERNAL" "$EXTERNAL_HOST"
  } >"$DIR/hosts"
  printf 'hosts: files dns\n' >"$DIR/nsswitch.conf"
  {
    echo "# generated by tests/sandbox/sandbox.sh; source it"
    for v in SANDBOX_DIR=$DIR SANDBOX_WORLD=$world \
      EXTERNAL_URL=https://$EXTERNAL_HOST:$HTTPS_PORT INTERNAL_URL=http://$INTERNAL_HOST:$HTTP_PORT \
      EXTERNAL_HOST=$EXTERNAL_HOST INTERNAL_HOST=$INTERNAL_HOST HTTPS_PORT=$HTTPS_PORT HTTP_PORT=$HTTP_PORT \
      CA_FILE=$DIR/ca.pem RESOLV_CONF=$DIR/resolv.conf HOSTS_FILE=$DIR/hosts NSSWITCH_CONF=$DIR/nsswitch.conf \
      CLUSTER_DNS=$CLUSTER_DNS UPSTREAM_DNS=$UPSTREAM_DNS PUBLIC_DNS=$PUBLIC_DNS \
      INGRESS_IP=$INGRESS_IP STALE_IP=$STALE_IP CLUSTER_IP=$CLUSTER_IP SHADOW_IP=$SHADOW_IP \
      CODERD_POD_IP=$CODERD_POD_IP CODER_VERSION=$CODER_VERSION \
      INGRESS_READ_TIMEOUT=$W_INGRESS_READ_TIMEOUT DERP_KEEPALIVE=$W_DERP_KEEPALIVE \
      CODERD_INGRESS_LOG=$DIR/logs/coderd-ingress.log CODERD_CLUSTERIP_LOG=$DIR/logs/coderd-clusterip.log \
      NGINX_CONTROL_SOCKET=$DIR/nginx/control.sock; do
      printf 'export %s=%q\n' "${v%%=*}" "${v#*=}"
    done
    echo "# this world's switches (what the servers were told to answer)"
    for v in "${WORLD_VARS[@]}"; do
      local w=W_$v
      printf 'export SANDBOX_%s=%q\n' "$v" "${!w}"
    done
  } >"$DIR/env.new"
  mv "$DIR/env.new" "$DIR/env"
  echo "$world" >"$DIR/world"
}

# ---- Starting and readiness ------------------------------------------------------------------
start_dns() {
  local name=$1 args
  [[ ! -f $DIR/conf/$name.args.new ]] || mv "$DIR/conf/$name.args.new" "$DIR/conf/$name.args"
  mapfile -t args <"$DIR/conf/$name.args"
  : >"$DIR/logs/$name.log"
  launch "$name" "$DIR/logs/$name.log" dnsmasq "${args[@]}"
}

start_coderd() {
  local name=$1 args
  [[ ! -f $DIR/conf/$name.args.new ]] || mv "$DIR/conf/$name.args.new" "$DIR/conf/$name.args"
  mapfile -t args <"$DIR/conf/$name.args"
  launch "$name" "$DIR/logs/$name.log" "$PYTHON" "$STANDIN" "${args[@]}"
}

coderd_serves() {  # NAME: the recorded stand-in answers /__sandbox (so it is this one, not an old one)
  local pid answer
  pid=$(recorded_pid "$1") || return 1
  answer=$(curl -s --max-time 0.5 --noproxy '*' "http://${ADDR[$1]}:$HTTP_PORT/__sandbox" 2>/dev/null) || return 1
  [[ $answer == *" pid $pid" ]]
}

dns_bound() {  # ADDR: UDP and TCP :53 both bound
  [[ -n $(ss -Hlnu "src $1:53" 2>/dev/null) && -n $(ss -Hlnt "src $1:53" 2>/dev/null) ]]
}

nginx_serves() {  # every listener serves the current config id
  local id want urls=()
  want=$(<"$DIR/nginx/config-id")
  id=$(curl -s --max-time 0.5 --unix-socket "$DIR/nginx/control.sock" http://sandbox/__sandbox 2>/dev/null) || return 1
  [[ $id == *" nginx-config $want" ]] || return 1
  [[ $W_INGRESS_REACHABLE != 1 ]] || urls+=("http://$INGRESS_IP:$HTTP_PORT" "https://$INGRESS_IP:$HTTPS_PORT")
  [[ $W_STALE_SITE != 1 ]] || urls+=("http://$STALE_IP:$HTTP_PORT" "https://$STALE_IP:$HTTPS_PORT")
  for url in "${urls[@]}"; do
    id=$(curl -s --max-time 0.5 --noproxy '*' -k "$url/__sandbox" 2>/dev/null) || return 1
    [[ $id == *" nginx-config $want" ]] || return 1
  done
}

# wait_ready NAME... : poll until every NAME is ready; on failure show its log and return 1
wait_ready() {
  local deadline=$(($(proc_now_ms) + 5000)) name pending=("$@") next
  while ((${#pending[@]})); do
    next=()
    for name in "${pending[@]}"; do
      local pid
      if ! pid=$(recorded_pid "$name"); then
        echo "$prog: $name exited during startup; its log ($(log_of "$name")):" >&2
        log_tail "$(log_of "$name")"; return 1
      fi
      case $name in
        nginx) nginx_serves || next+=("$name") ;;
        coderd-*) coderd_serves "$name" || next+=("$name") ;;
        *) dns_bound "${ADDR[$name]}" || next+=("$name") ;;
      esac
    done
    pending=("${next[@]}")
    ((${#pending[@]})) || break
    if (($(proc_now_ms) >= deadline)); then
      echo "$prog: ${pending[0]} did not become ready within 5 s; its log:" >&2
      log_tail "$(log_of "${pending[0]}")"; return 1
    fi
    sleep 0.01
  done
}

log_of() { if [[ $1 == nginx ]]; then echo "$DIR/logs/nginx-error.log"; else echo "$DIR/logs/$1.log"; fi; }  # coderd-*: requests too

running_names() { local n; for n in "${ALL_NAMES[@]}"; do recorded_pid "$n" >/dev/null && echo "$n"; done; return 0; }

# ---- Commands --------------------------------------------------------------------------------
cmd_start() {
  local world=${1:-}
  load_world "$world"
  mkdir -p "$DIR"/{run,logs,conf}
  local running; running=$(running_names | tr '\n' ' ')
  [[ -z $running ]] || die "already running (world $(cat "$DIR/world" 2>/dev/null || echo '?'): $running); use switch or stop"
  for n in "${ALL_NAMES[@]}"; do forget "$n"; done
  command -v dnsmasq >/dev/null || die "dnsmasq not found (scripts/install-deps.sh installs dnsmasq-base)"
  command -v nginx >/dev/null || die "nginx not found (scripts/install-deps.sh installs nginx-light)"
  command -v curl >/dev/null || die "curl not found (scripts/install-deps.sh installs it)"
  check_ports
  trap cmd_stop EXIT  # never leave half a sandbox behind
  ensure_tls
  render_dns
  render_coderd
  render_nginx
  rm -f "$DIR/nginx/nginx.conf.running" "$DIR/nginx/control.sock"
  nginx_install_config || true
  write_env "$world"
  for n in "${DNS_NAMES[@]}"; do start_dns "$n"; done
  for n in "${CODERD_NAMES[@]}"; do : >"$DIR/logs/$n.log"; start_coderd "$n"; done
  : >"$DIR/logs/nginx-error.log"
  launch nginx "$DIR/logs/nginx-error.log" nginx -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" \
    -e "$DIR/logs/nginx-error.log" -g 'daemon off;'
  wait_ready "${ALL_NAMES[@]}" || die "start failed (world $world)"
  trap - EXIT
}

cmd_switch() {
  local world=${1:-}
  load_world "$world"
  local n pid restart=()
  for n in "${ALL_NAMES[@]}"; do
    recorded_pid "$n" >/dev/null || die "not running ($n is down); use start"
  done
  render_dns
  for n in "${DNS_NAMES[@]}"; do
    cmp -s "$DIR/conf/$n.args.new" "$DIR/conf/$n.args" || restart+=("$n")
  done
  # the cluster DNS caches forwarded answers: restart it too when the upstream changes
  if [[ " ${restart[*]} " == *" dns-upstream "* && " ${restart[*]} " != *" dns-cluster "* ]]; then
    restart=(dns-cluster "${restart[@]}")
  fi
  render_coderd
  local coderd_restart=()
  for n in "${CODERD_NAMES[@]}"; do
    cmp -s "$DIR/conf/$n.args.new" "$DIR/conf/$n.args" || coderd_restart+=("$n")
  done
  restart+=("${coderd_restart[@]}")
  render_nginx
  write_env "$world"
  for n in "${restart[@]}"; do
    if pid=$(recorded_pid "$n"); then proc_terminate "$pid"; fi
    forget "$n"
  done
  for n in "${restart[@]}"; do
    if [[ $n == coderd-* ]]; then start_coderd "$n"; else start_dns "$n"; fi
  done
  rm -f "$DIR"/conf/*.args.new
  local ready=("${restart[@]}")
  local old_workers=()
  if nginx_install_config; then
    pid=$(recorded_pid nginx)
    mapfile -t old_workers < <(proc_children "$pid")
    kill -HUP "$pid"
    ready+=(nginx)
  fi
  ((${#ready[@]} == 0)) || wait_ready "${ready[@]}" ||
    die "switch to $world failed (the sandbox may be half switched; stop and start it)"
  # old nginx workers could still accept a connection or two until they see the QUIT; they
  # close idle keep-alive connections and exit within milliseconds (a busy one may take longer)
  ((${#old_workers[@]} == 0)) || proc_wait_gone 2 "${old_workers[@]}" ||
    echo "$prog: note: old nginx workers still finishing requests: ${old_workers[*]}" >&2
}

cmd_stop() {
  [[ -d $DIR/run ]] || return 0
  local f name pid pids=()
  for f in "$DIR"/run/*.pid; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .pid)
    pid=$(recorded_pid "$name") && pids+=("$pid")
  done
  ((${#pids[@]} == 0)) || proc_terminate "${pids[@]}"
  for f in "$DIR"/run/*.pid; do [[ -e $f ]] && forget "$(basename "$f" .pid)"; done
  rm -f "$DIR/nginx/nginx.conf.running"
  return 0
}

cmd_status() {
  local n pid up=0 total=0 where lines=()
  for n in "${ALL_NAMES[@]}"; do
    total=$((total + 1))
    case $n in
      nginx) where="$INGRESS_IP:$HTTPS_PORT,$HTTP_PORT (ingress)" ;;
      coderd-*) where="${ADDR[$n]}:$HTTP_PORT (stand-in)" ;;
      *) where="${ADDR[$n]}:53" ;;
    esac
    if pid=$(recorded_pid "$n"); then up=$((up + 1)); lines+=("$(printf '%-16s %-42s running (pid %s)' "$n" "$where" "$pid")")
    else lines+=("$(printf '%-16s %-42s stopped' "$n" "$where")"); fi
  done
  local world='?'; [[ -f $DIR/world ]] && world=$(<"$DIR/world")
  if ((up == 0)); then echo "sandbox stopped (state: $DIR)"; else echo "world: $world  (state: $DIR)"; fi
  printf '%s\n' "${lines[@]}"
  # other processes recorded in run/ (e.g. fault servers started with --pidfile $DIR/run/x.pid)
  for f in "$DIR"/run/*.pid; do
    [[ -e $f ]] || continue
    n=$(basename "$f" .pid)
    [[ " ${ALL_NAMES[*]} " == *" $n "* ]] && continue
    if pid=$(recorded_pid "$n"); then printf '%-16s %-42s running (pid %s)\n' "$n" "(extra)" "$pid"; fi
  done
  ((up == total)) && return 0
  ((up == 0)) && return 3
  return 1
}

main() {
  local cmd=${1:-}; shift || true
  case $cmd in
    start | switch | stop | status) ;;
    worlds) list_worlds; return 0 ;;
    *) echo "usage: $prog start WORLD | switch WORLD | stop | status | worlds" >&2; exit 2 ;;
  esac
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)  # configs carry absolute paths
  exec 9>"$DIR/lock"
  flock -w 30 9 || die "another sandbox.sh holds $DIR/lock"
  "cmd_$cmd" "$@"
}

main "$@"

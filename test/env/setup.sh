#!/usr/bin/env bash
# drydock test bench: prepares THIS machine (as root) for real container tests.
#   - Debian packages: docker.io runc docker-registry busybox-static debootstrap
#     skopeo umoci apache2-utils curl
#   - registry 127.0.0.1:5000 (open) and 127.0.0.1:5001 (basic auth)
#   - registry https://127.0.0.1:5002: TLS with a certificate of a test CA
#     ($STATE/tls/ca.pem, trusted by nothing), a pull-through proxy of :5000
#   - dockerd with 127.0.0.1:5000 as registry mirror (offline "FROM busybox")
#   - base images seeded into 127.0.0.1:5000/library/* without dockerd
# Idempotent; a second run only checks and takes well under 3 s.
# Undo with test/env/reset.sh. See test/env/README.md.
set -euo pipefail

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "test/env/setup.sh must run as root (it installs packages and starts dockerd)"

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

STATE=/var/lib/drydock-test   # registry storage + config (removed by reset.sh)
LOGS=/var/log/drydock-test
CACHE=/var/cache/drydock-test # debootstrap rootfs tarball (kept by reset.sh)
RUN=/run/drydock-test         # pid files + lock
DOCKER=/usr/bin/docker        # the engine's own client (20.10, has BuildKit built in)
REG=127.0.0.1:5000
AUTH_REG=127.0.0.1:5001
AUTH_USER=drydock
AUTH_PASS=drydock-test-pw
TLS_REG=127.0.0.1:5002
IMG_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PACKAGES=(docker.io runc docker-registry busybox-static debootstrap skopeo umoci apache2-utils curl graphviz attr openssl)

mkdir -p "$STATE" "$LOGS" "$CACHE" "$RUN"
# Serialise concurrent runs (e.g. two `npm test`s). Daemons started below get
# `9>&-` so they never inherit (and hold) this lock.
exec 9>"$RUN/setup.lock"
flock 9

# ---------------------------------------------------------------- packages --
ensure_packages() {
  local missing="" installed p
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
  for p in "${PACKAGES[@]}"; do
    grep -qx "$p ii " <<<"$installed" || missing+="$p "
  done
  [[ -z $missing ]] && return 0
  log "installing Debian packages: $missing"
  export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  # shellcheck disable=SC2086
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >&2
}

# -------------------------------------------------------------- registries --
write_registry_config() { # file port storage [htpasswd]
  local file=$1 port=$2 storage=$3 htpasswd=${4:-}
  write_registry_yml "$file" "$port" "$storage" "$(
    if [[ -n $htpasswd ]]; then
      printf 'auth:\n  htpasswd:\n    realm: drydock-test\n    path: %s\n' "$htpasswd"
    fi
  )"
}

write_registry_yml() { # file port storage extra-yaml
  local file=$1 port=$2 storage=$3 extra=$4
  {
    cat <<EOF
version: 0.1
log:
  level: info
  fields:
    service: drydock-test-registry-$port
storage:
  filesystem:
    rootdirectory: $storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    [[ -z $extra ]] || printf '%s\n' "$extra"
  } >"$file.tmp"
  mv "$file.tmp" "$file"
}

# A CA of its own and a certificate for 127.0.0.1 that it signed: what a registry behind a
# company's CA looks like (clients trust it only through NODE_EXTRA_CA_CERTS and the like).
ensure_tls_material() { # dir
  local dir=$1
  if [[ -s $dir/ca.pem && -s $dir/server-key.pem ]] &&
    openssl x509 -checkend 86400 -noout -in "$dir/server.pem" >/dev/null 2>&1; then
    return 0
  fi
  log "making a test CA and a certificate for $TLS_REG in $dir"
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=drydock test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/server-key.pem" -out "$dir/server.csr" 2>/dev/null
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
    -days 825 -out "$dir/server.pem" 2>/dev/null \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
  rm -f "$dir/server.csr"
}

start_registry() { # name url logfile config curl-args...
  local name=$1 url=$2 logfile=$3 config=$4
  shift 4
  if curl -fsS -o /dev/null --max-time 3 "$@" "$url/v2/" 2>/dev/null; then
    return 0
  fi
  log "starting registry $name on $url (log: $logfile)"
  nohup setsid docker-registry serve "$config" >>"$logfile" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/$name.pid"
  for _ in $(seq 1 50); do
    curl -fsS -o /dev/null --max-time 2 "$@" "$url/v2/" 2>/dev/null && return 0
    kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 20 "$logfile" >&2 || true
  die "registry $name did not come up on $url"
}

ensure_registries() {
  mkdir -p "$STATE/registry" "$STATE/registry-auth" "$STATE/etc"
  write_registry_config "$STATE/etc/registry.yml" 5000 "$STATE/registry"
  if [[ ! -s $STATE/etc/htpasswd ]] ||
    ! htpasswd -vb "$STATE/etc/htpasswd" "$AUTH_USER" "$AUTH_PASS" >/dev/null 2>&1; then
    htpasswd -Bbc "$STATE/etc/htpasswd" "$AUTH_USER" "$AUTH_PASS" 2>/dev/null
  fi
  write_registry_config "$STATE/etc/registry-auth.yml" 5001 "$STATE/registry-auth" "$STATE/etc/htpasswd"
  start_registry registry "http://$REG" "$LOGS/registry.log" "$STATE/etc/registry.yml"
  start_registry registry-auth "http://$AUTH_REG" "$LOGS/registry-auth.log" "$STATE/etc/registry-auth.yml" \
    -u "$AUTH_USER:$AUTH_PASS"
  ensure_tls_material "$STATE/tls"
  mkdir -p "$STATE/registry-tls"
  write_registry_yml "$STATE/etc/registry-tls.yml" 5002 "$STATE/registry-tls" "$(
    printf '  tls:\n    certificate: %s\n    key: %s\n' "$STATE/tls/server.pem" "$STATE/tls/server-key.pem"
    printf 'proxy:\n  remoteurl: http://%s\n' "$REG"
  )"
  start_registry registry-tls "https://$TLS_REG" "$LOGS/registry-tls.log" "$STATE/etc/registry-tls.yml" \
    --cacert "$STATE/tls/ca.pem"
}

# ------------------------------------------------------------------ docker --
# Merge our keys into /etc/docker/daemon.json (other keys are kept); prints
# "changed" when the file had to be rewritten.
merge_daemon_json() {
  mkdir -p /etc/docker
  node - /etc/docker/daemon.json "http://$REG" "$REG" "$AUTH_REG" <<'EOF'
const fs = require('fs');
const [file, mirror, ...insecure] = process.argv.slice(2);
let raw = '', cur = {};
try { raw = fs.readFileSync(file, 'utf8'); cur = raw.trim() ? JSON.parse(raw) : {}; }
catch (e) { if (e.code !== 'ENOENT') { console.error(`[bench] ${file}: ${e.message}; replacing it`); cur = {}; } }
const union = (want, have) => [...want, ...(Array.isArray(have) ? have : []).filter((x) => !want.includes(x))];
const next = { ...cur,
  'registry-mirrors': union([mirror], cur['registry-mirrors']),
  'insecure-registries': union(insecure, cur['insecure-registries']) };
const text = JSON.stringify(next, null, 2) + '\n';
if (text !== raw) { fs.writeFileSync(file + '.tmp', text); fs.renameSync(file + '.tmp', file); console.log('changed'); }
EOF
}

docker_up() { "$DOCKER" info >/dev/null 2>&1; }

stop_dockerd() {
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  log "restarting dockerd (pid $pid) to apply /etc/docker/daemon.json"
  kill -TERM "$pid"
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  die "dockerd (pid $pid) did not stop within 30 s"
}

ensure_dockerd() {
  local changed
  changed=$(merge_daemon_json)
  if [[ $changed == changed ]]; then
    log "wrote /etc/docker/daemon.json (mirror http://$REG; insecure $REG, $AUTH_REG)"
    if docker_up; then stop_dockerd; fi
  fi
  docker_up && return 0
  # No flags needed on this kind of machine: dockerd picks overlay2, the
  # cgroupfs driver (cgroup v1/hybrid) and iptables-nft on its own.
  log "starting dockerd (log: $LOGS/dockerd.log)"
  nohup setsid dockerd >>"$LOGS/dockerd.log" 2>&1 </dev/null 9>&- &
  echo $! >"$RUN/dockerd.pid"
  for _ in $(seq 1 120); do
    docker_up && return 0
    kill -0 "$(cat "$RUN/dockerd.pid")" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 30 "$LOGS/dockerd.log" >&2 || true
  die "dockerd did not answer '$DOCKER info' within 60 s"
}

# ------------------------------------------------------------- base images --
ACCEPT=(
  -H 'Accept: application/vnd.oci.image.manifest.v1+json'
  -H 'Accept: application/vnd.oci.image.index.v1+json'
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'
  -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json'
)
has_tag() { # repo tag
  curl -fsS -o /dev/null --max-time 5 -I "${ACCEPT[@]}" "http://$REG/v2/library/$1/manifests/$2" 2>/dev/null
}

ARCH=$(dpkg --print-architecture) # amd64 here; Debian and OCI names agree for amd64/arm64
WORK=""
OCI=""
cleanup() { if [[ -n $WORK ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT
workdir() {
  if [[ -z $WORK ]]; then
    WORK=$(mktemp -d /var/tmp/drydock-bench.XXXXXX)
    OCI=$WORK/oci
    umoci init --layout "$OCI"
  fi
}

push() { # local-tag repo tag...
  local src=$1 repo=$2
  shift 2
  for tag in "$@"; do
    log "pushing $REG/library/$repo:$tag"
    skopeo --insecure-policy copy --quiet --dest-tls-verify=false \
      "oci:$OCI:$src" "docker://$REG/library/$repo:$tag" >&2
  done
}

# Runs a command inside a rootfs with a clean environment (used for checks).
in_rootfs() { # rootfs cmd...
  local root=$1
  shift
  chroot "$root" /usr/bin/env -i PATH="$IMG_PATH" HOME=/root "$@"
}

seed_busybox() {
  has_tag busybox latest && has_tag busybox 1.35 && return 0
  workdir
  log "building library/busybox from Debian's busybox-static"
  umoci new --image "$OCI:busybox"
  umoci unpack --image "$OCI:busybox" "$WORK/busybox"
  local root=$WORK/busybox/rootfs applet
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,home,var,tmp,dev,proc,sys}
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  install -m 0755 /bin/busybox "$root/bin/busybox"
  while read -r applet; do
    [[ -e $root/$applet || -L $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
  done < <(/bin/busybox --list-full)
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/home:/bin/false' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$root/etc/group"
  [[ $(in_rootfs "$root" sh -c 'echo ok') == ok ]] || die "busybox rootfs: sh does not run"
  umoci repack --image "$OCI:busybox" --history.created_by "busybox-static $(dpkg-query -W -f='${Version}' busybox-static)" "$WORK/busybox"
  umoci config --image "$OCI:busybox" --os linux --architecture "$ARCH" \
    --config.env "PATH=$IMG_PATH" --config.cmd sh --history.created_by 'CMD ["sh"]'
  push busybox busybox latest 1.35
}

debian_mirror() { # the URI apt is configured with for Debian itself
  local uri=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
      /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z $uri ]]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

debian_tarball() { # prints the cached debootstrap tarball, creating it if needed
  local tarball=$CACHE/debian-bookworm-minbase-$ARCH.tar
  if [[ ! -s $tarball ]]; then
    local mirror target
    mirror=$(debian_mirror)
    target=$WORK/debootstrap
    log "debootstrap --variant=minbase bookworm from $mirror (once; cached in $tarball)"
    debootstrap --variant=minbase --arch="$ARCH" bookworm "$target" "$mirror" >>"$LOGS/debootstrap.log" 2>&1 ||
      { tail -n 20 "$LOGS/debootstrap.log" >&2; die "debootstrap failed (log: $LOGS/debootstrap.log)"; }
    tar --numeric-owner --xattrs -C "$target" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$target"
  fi
  echo "$tarball"
}

# Images built on debian (each shares debian's layer): "repo tag..." per line.
DERIVED=(
  'node 20-slim 20'
  'python 3.11-slim 3.11'
  'golang 1.19 1.19-bookworm'
)
has_tags() { # repo tag...
  local repo=$1 tag
  shift
  for tag in "$@"; do has_tag "$repo" "$tag" || return 1; done
}

# Makes $OCI:debian, either from the registry (so the images built on it share
# its base layer with the pushed debian image) or by building it from the
# debootstrap cache. Nothing to do when every derived image is already there.
seed_debian() {
  if has_tag debian bookworm-slim && has_tag debian bookworm; then
    local line missing=""
    for line in "${DERIVED[@]}"; do
      # shellcheck disable=SC2086
      has_tags $line || missing=1
    done
    [[ -z $missing ]] && return 0
    workdir
    skopeo --insecure-policy copy --quiet --src-tls-verify=false \
      "docker://$REG/library/debian:bookworm-slim" "oci:$OCI:debian" >&2
    return 0
  fi
  workdir
  local tarball
  tarball=$(debian_tarball)
  log "building library/debian from $tarball"
  umoci new --image "$OCI:debian"
  umoci unpack --image "$OCI:debian" "$WORK/debian"
  local root=$WORK/debian/rootfs
  tar --numeric-owner --xattrs -C "$root" -xf "$tarball"
  # Slim it like the official image: no apt lists/caches, logs, device nodes
  # or host files that debootstrap copied in (docker mounts its own).
  rm -rf "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/cache/apt/* "${root:?}"/var/cache/debconf/*-old \
    "${root:?}"/var/log/* "${root:?}"/dev/* "${root:?}"/proc/* "${root:?}"/sys/* "${root:?}"/run/* "${root:?}"/tmp/* \
    "${root:?}"/etc/hostname "${root:?}"/etc/resolv.conf "${root:?}"/etc/apt/sources.list
  mkdir -p "$root/var/lib/apt/lists/partial" "$root/var/cache/apt/archives/partial"
  chmod 1777 "$root/tmp"
  # apt inside the image uses the same mirror as this machine.
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
  else
    printf 'deb %s bookworm main\n' "$(debian_mirror)" >"$root/etc/apt/sources.list"
  fi
  [[ $(in_rootfs "$root" bash -c 'echo ok') == ok ]] || die "debian rootfs: bash does not run"
  umoci repack --image "$OCI:debian" --history.created_by "debootstrap --variant=minbase bookworm" "$WORK/debian"
  umoci config --image "$OCI:debian" --os linux --architecture "$ARCH" \
    --config.env "PATH=$IMG_PATH" --config.cmd bash --history.created_by 'CMD ["bash"]'
  rm -rf "$WORK/debian"
  push debian debian bookworm-slim bookworm
}

seed_node() {
  has_tag node 20-slim && has_tag node 20 && return 0
  local node_bin node_version npm_root node_prefix
  node_bin=$(readlink -f "$(command -v node)") || die "node not found on this machine"
  node_version=$("$node_bin" -p process.versions.node)
  [[ $node_version == 20.* ]] || log "warning: machine's node is $node_version, tagging it node:20 anyway"
  npm_root=$(npm root -g 2>/dev/null)
  [[ -f $npm_root/npm/bin/npm-cli.js ]] || die "npm not found under $npm_root"
  node_prefix=$(dirname "$(dirname "$node_bin")")
  log "building library/node from debian + this machine's node $node_version ($node_bin, $npm_root)"
  umoci unpack --image "$OCI:debian" "$WORK/node"
  local root=$WORK/node/rootfs mod lib
  install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  for mod in npm corepack; do
    [[ -d $npm_root/$mod ]] && cp -a "$npm_root/$mod" "$root/usr/local/lib/node_modules/$mod"
  done
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  [[ -d $root/usr/local/lib/node_modules/corepack ]] &&
    ln -sf ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"
  # headers for node-gyp, where the official image has them
  [[ -d $node_prefix/include/node ]] && mkdir -p "$root/usr/local/include" &&
    cp -a "$node_prefix/include/node" "$root/usr/local/include/node"
  # Shared libraries node needs that the debian rootfs lacks: copy the host's.
  for lib in $(in_rootfs "$root" ldd /usr/local/bin/node | awk '/not found/ { print $1 }'); do
    local host_lib
    host_lib=$(ldd "$node_bin" | awk -v l="$lib" '$1 == l { print $3 }')
    [[ -n $host_lib ]] || die "node needs $lib, which neither the image nor the host has"
    log "adding $host_lib to the node image (not in debian minbase)"
    install -D -m 0644 "$(readlink -f "$host_lib")" "$root$host_lib"
  done
  in_rootfs "$root" groupadd --gid 1000 node
  in_rootfs "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  local v_node v_npm
  v_node=$(in_rootfs "$root" node -v) || die "node does not run in the image"
  v_npm=$(in_rootfs "$root" npm -v 2>/dev/null) || die "npm does not run in the image"
  [[ $v_node == "v$node_version" ]] || die "node in image says $v_node, expected v$node_version"
  log "node image: node $v_node, npm $v_npm"
  rm -rf "${root:?}"/var/log/* "${root:?}"/root/.npm
  umoci repack --image "$OCI:node" --history.created_by "node $node_version from this machine" "$WORK/node"
  umoci config --image "$OCI:node" --os linux --architecture "$ARCH" \
    --config.env "NODE_VERSION=$node_version" --config.cmd node --history.created_by 'CMD ["node"]'
  rm -rf "$WORK/node"
  push node node 20-slim 20
}

# Installs Debian packages into an unpacked rootfs with the image's own apt,
# from the mirror this machine uses. Runs in a private mount namespace, so the
# /dev, /proc and .deb cache mounts vanish with it even if apt fails; the .debs
# stay in $CACHE/debs for the next build (reset.sh keeps them).
apt_install() { # rootfs package...
  local root=$1
  shift
  mkdir -p "$CACHE/debs/partial"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  log "apt-get install $* (log: $LOGS/apt.log)"
  unshare --mount --propagation private bash -euo pipefail -s "$root" "$CACHE/debs" "$IMG_PATH" "$@" \
    >>"$LOGS/apt.log" 2>&1 <<'APT' || { tail -n 20 "$LOGS/apt.log" >&2; die "apt-get install $* failed (log: $LOGS/apt.log)"; }
root=$1 debs=$2 path=$3
shift 3
mount --bind /dev "$root/dev"
mount -t proc proc "$root/proc"
mount --bind "$debs" "$root/var/cache/apt/archives"
# The host's apt may need these for its mirror (e.g. a dated snapshot); harmless otherwise.
opts=(-o Acquire::Check-Valid-Until=false -o Acquire::Check-Date=false -o APT::Keep-Downloaded-Packages=true)
apt() { chroot "$root" /usr/bin/env -i PATH="$path" HOME=/root DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" "$@"; }
apt update -qq
apt install -y -qq --no-install-recommends "$@"
APT
  # Slim like the official images: no apt lists or caches, logs, or host files.
  rm -rf "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/cache/apt/*.bin "${root:?}"/var/cache/debconf/*-old \
    "${root:?}"/var/log/* "${root:?}"/tmp/* "${root:?}"/root/.cache "${root:?}"/etc/resolv.conf
  mkdir -p "$root/var/lib/apt/lists/partial"
}

# library/python: debian + Debian's python3 (python, pip and venv), set up like
# the official python image: python/python3/pip on PATH, LANG=C.UTF-8,
# PYTHON_VERSION, Cmd python3, and pip allowed to install outside a venv
# (Debian's EXTERNALLY-MANAGED marker removed: the official image has none).
seed_python() {
  has_tags python 3.11-slim 3.11 && return 0
  log "building library/python from debian + Debian's python3"
  umoci unpack --image "$OCI:debian" "$WORK/python"
  local root=$WORK/python/rootfs version
  apt_install "$root" python3 python3-venv python3-pip python-is-python3
  rm -f "$root"/usr/lib/python3.*/EXTERNALLY-MANAGED
  version=$(in_rootfs "$root" python -B -c 'import platform; print(platform.python_version())') ||
    die "python does not run in the image"
  [[ $version == 3.11.* ]] || die "Debian's python3 is $version, but the image is tagged python:3.11"
  in_rootfs "$root" python3 -B -c 'import venv, ensurepip, ssl, sqlite3' ||
    die "the python image lacks venv, ensurepip, ssl or sqlite3"
  in_rootfs "$root" env PYTHONDONTWRITEBYTECODE=1 pip --version >/dev/null || die "pip does not run in the image"
  log "python image: python $version"
  umoci repack --image "$OCI:python" \
    --history.created_by "apt-get install python3 python3-venv python3-pip python-is-python3" "$WORK/python"
  umoci config --image "$OCI:python" --os linux --architecture "$ARCH" \
    --config.env "LANG=C.UTF-8" --config.env "PYTHON_VERSION=$version" \
    --config.cmd python3 --history.created_by 'CMD ["python3"]'
  rm -rf "$WORK/python"
  push python python 3.11-slim 3.11
}

# library/golang: debian + Debian's golang-go, ca-certificates and git, set up
# like the official golang image: /usr/local/go (a link to Debian's GOROOT),
# GOPATH=/go (world-writable src and bin), PATH with /go/bin and
# /usr/local/go/bin, GOLANG_VERSION, WorkingDir /go.
seed_golang() {
  has_tags golang 1.19 1.19-bookworm && return 0
  log "building library/golang from debian + Debian's golang-go"
  umoci unpack --image "$OCI:debian" "$WORK/golang"
  local root=$WORK/golang/rootfs version goroot
  apt_install "$root" golang-go ca-certificates git
  goroot=$(in_rootfs "$root" readlink -f /usr/bin/go) || die "golang-go installed no /usr/bin/go"
  goroot=${goroot%/bin/go}
  ln -sfn "$goroot" "$root/usr/local/go"
  mkdir -p "$root/go/src" "$root/go/bin"
  chmod -R 1777 "$root/go"
  version=$(in_rootfs "$root" /usr/local/go/bin/go env GOVERSION) || die "go does not run in the image"
  [[ $version == go1.19* ]] || die "Debian's golang-go is $version, but the image is tagged golang:1.19"
  log "golang image: $version ($goroot)"
  umoci repack --image "$OCI:golang" --history.created_by "apt-get install golang-go ca-certificates git" "$WORK/golang"
  umoci config --image "$OCI:golang" --os linux --architecture "$ARCH" \
    --config.env "GOLANG_VERSION=${version#go}" --config.env "GOPATH=/go" \
    --config.env "PATH=/go/bin:/usr/local/go/bin:$IMG_PATH" --config.workingdir /go \
    --config.cmd bash --history.created_by 'WORKDIR /go'
  rm -rf "$WORK/golang"
  push golang golang 1.19 1.19-bookworm
}

ensure_images() {
  seed_busybox
  seed_debian
  seed_node
  seed_python
  seed_golang
}

# -------------------------------------------------------------------- main --
ensure_packages
ensure_registries
ensure_dockerd
ensure_images
log "ready: registry $REG (mirror), auth registry $AUTH_REG, TLS registry $TLS_REG, dockerd $("$DOCKER" version -f '{{.Server.Version}}')"

#!/usr/bin/env bash
# Checks the Debian packages, trapline and trapline-model (run as root, after scripts/build-deb.sh):
#  1. lintian: no errors (warnings are printed; each is fixed or overridden with a reason);
#  2. systemd-analyze security of the unit: exposure at most 2.0;
#  3. the man pages render with man -l;
#  4. in a clean root (amd64: Debian 12 made with debootstrap; arm64: Debian trixie, the Pi's, run through
#     binfmt and qemu-user): trapline refused without its model package, both installed with their dependencies,
#     trapline --version, trapline classify on a sample photo, trapline run labels photos dropped into its watch
#     folder, the service user and folders; an upgrade to a newer version keeps an edited conffile and the
#     catalog; remove keeps configuration and state; purge removes them.
# Prints each check with PASS or FAIL and exits non-zero when any failed.
#   scripts/check-deb.sh [--arch amd64|arm64]   (default: this machine's; arm64 after scripts/build-deb-arm64.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "check-deb.sh: run as root (debootstrap and chroot)" >&2; exit 1; }
arch=$(dpkg --print-architecture)
case "${1:-}" in
  --arch) arch=${2:?--arch needs amd64 or arm64} ;;
  "") ;;
  *) echo "check-deb.sh: unknown option $1 (--arch amd64|arm64)" >&2; exit 64 ;;
esac

failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

deb=$(ls -1t dist/trapline_*_"$arch".deb 2>/dev/null | head -n 1)
model_deb=$(ls -1t dist/trapline-model_*_all.deb 2>/dev/null | head -n 1)
[[ -n $deb && -n $model_deb ]] || { echo "check-deb.sh: no packages in dist/: run scripts/build-deb.sh first" >&2; exit 1; }
echo "packages: $deb $model_deb"

for tool in lintian debootstrap; do
  command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$tool" >/dev/null
done

# 1. lintian
lintian_out=$(lintian --tag-display-limit 0 "$deb" "$model_deb" 2>&1 || true)
echo "$lintian_out" | sed 's/^/  lintian: /'
check "lintian reports no errors" bash -c "! grep -q '^E:' <<<\"\$1\"" _ "$lintian_out"

# 2. systemd hardening
exposure=$(systemd-analyze security --offline=true --no-pager Systemd/trapline.service 2>/dev/null | awk '/Overall exposure level/ {print $(NF-2)}')
echo "  systemd-analyze security: exposure $exposure"
check "systemd exposure $exposure <= 2.0" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }'

# 3. man pages
for page in man/trapline.1 man/trapline.yaml.5; do
  check "man -l $page renders" bash -c "man -l '$page' 2>&1 >/dev/null | grep -q . && exit 1 || exit 0"
done

# 4. a clean root
if [[ $arch == arm64 ]]; then
  # trixie arm64, made by the cross toolchain's setup; its programs run through binfmt_misc and qemu-user.
  base=$(scripts/arm64/toolchain.sh)/base
else
  base=/var/tmp/trapline-bookworm-base
  if [[ ! -x $base/bin/bash ]]; then
    echo "debootstrap into $base (first run only)"
    debootstrap --variant=minbase bookworm "$base" >/dev/null
  fi
fi
root=$(mktemp -d /var/tmp/trapline-chroot.XXXXXX)
cleanup() { umount "$root/proc" 2>/dev/null || true; [[ -n ${TRAPLINE_KEEP_CHROOT:-} ]] && echo "kept $root" || rm -rf "$root"; }
trap cleanup EXIT
cp -a "$base/." "$root/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
in_root() { chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
cp "$deb" "$model_deb" "$root/tmp/"
cp /usr/share/darknet/data/dog.jpg "$root/tmp/dog.jpg"
in_root apt-get update -q >/dev/null
check "trapline alone is refused without its model package" bash -c \
  "! chroot '$root' /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y -q '/tmp/$(basename "$deb")' >/dev/null 2>&1"
check "install with apt (dependencies from Debian)" \
  in_root apt-get install -y -q "/tmp/$(basename "$deb")" "/tmp/$(basename "$model_deb")"
check "the model comes from trapline-model" bash -c \
  "chroot '$root' dpkg -S /usr/share/trapline/models/efficientnet-lite0.safetensors | grep -q '^trapline-model:'"
check "trapline --version" in_root trapline --version
check "trapline classify a sample photo" bash -c "chroot '$root' trapline classify /tmp/dog.jpg --top 1 | grep -q 'animal probability'"
check "system user trapline exists" in_root getent passwd trapline
check "/var/lib/trapline is trapline:trapline 0750" bash -c "[[ \$(chroot '$root' stat -c '%U:%G %a' /var/lib/trapline) == 'trapline:trapline 750' ]]"
check "/srv/camera-traps is root:trapline 2775" bash -c "[[ \$(chroot '$root' stat -c '%U:%G %a' /srv/camera-traps) == 'root:trapline 2775' ]]"
check "/etc/trapline/trapline.yaml is a conffile" bash -c "chroot '$root' dpkg-query -W -f='\${Conffiles}' trapline | grep -q /etc/trapline/trapline.yaml"
check "the unit is installed and enabled" test -L "$root/etc/systemd/system/multi-user.target.wants/trapline.service"

# State that an upgrade must keep: an edited conffile and a catalog.
echo "# edited by the administrator" >>"$root/etc/trapline/trapline.yaml"
in_root install -d -o trapline -g trapline /tmp/site/A05
cp /usr/share/darknet/data/horses.jpg "$root/tmp/site/A05/"
# umask 027, as the unit's UMask= gives the service.
chroot --userspec=trapline:trapline "$root" sh -c 'umask 027; trapline ingest /tmp/site --catalog /var/lib/trapline/catalog.db' >/dev/null
catalog_rows() { chroot "$root" sqlite3 /var/lib/trapline/catalog.db 'select count(*) from observations' 2>/dev/null || echo 0; }
in_root apt-get install -y -q sqlite3 >/dev/null
# The daemon as the service runs it: trapline run watches a folder; photos dropped there get labels in its catalog.
in_root install -d -o trapline -g trapline /tmp/watch /tmp/run-state
chroot --userspec=trapline:trapline "$root" /usr/bin/env TRAPLINE_HTTP_LISTEN=off OPENBLAS_NUM_THREADS=1 \
  trapline run --watch /tmp/watch --catalog /tmp/run-state/catalog.db >"$root/tmp/run.log" 2>&1 &
run_pid=$!
for _ in $(seq 120); do grep -q scanning "$root/tmp/run.log" 2>/dev/null && break; sleep 1; done
in_root install -d -o trapline -g trapline /tmp/watch/B01
cp /usr/share/darknet/data/horses.jpg /usr/share/darknet/data/eagle.jpg "$root/tmp/watch/B01/"
run_rows() { chroot "$root" sqlite3 /tmp/run-state/catalog.db "select count(*) from observations" 2>/dev/null || echo 0; }
for _ in $(seq 300); do (($(run_rows) >= 2)) && break; sleep 1; done
check "trapline run labels dropped photos into its catalog ($(run_rows) of 2)" test "$(run_rows)" -ge 2
kill -TERM "$run_pid" 2>/dev/null || true
check "trapline run exits 0 on SIGTERM" wait "$run_pid"
check "sqlite3 reads the labels" bash -c "chroot '$root' sqlite3 /tmp/run-state/catalog.db \
  \"select scientificName from observations where observationType = 'animal'\" | grep -q ."
# Group members read the catalog read-only; persistent WAL keeps the -shm file they cannot create. (A root
# sqlite3 session closing last would remove it again until trapline next opens the catalog.)
in_root useradd --create-home alice
in_root usermod -a -G trapline alice
check "a member of the trapline group reads the catalog with sqlite3" bash -c \
  "[[ \$(chroot --userspec=alice:alice --groups=trapline '$root' sqlite3 /var/lib/trapline/catalog.db 'select count(*) from media') -ge 1 ]]"
in_root useradd --create-home mallory
check "a user outside the group cannot" bash -c \
  "! chroot --userspec=mallory:mallory '$root' sqlite3 /var/lib/trapline/catalog.db 'select count(*) from media' 2>/dev/null"
before=$(catalog_rows)

next=$(mktemp -d)
cp "$deb" "$next/"
(cd "$next" && dpkg-deb -R "$(basename "$deb")" pkg && sed -i "s/^Version: .*/&+upgrade1/" pkg/DEBIAN/control \
  && dpkg-deb -b pkg trapline-upgrade.deb >/dev/null)
cp "$next/trapline-upgrade.deb" "$root/tmp/"
rm -rf "$next"
check "upgrade installs" in_root apt-get install -y -q /tmp/trapline-upgrade.deb
check "upgrade keeps the edited conffile" grep -q "edited by the administrator" "$root/etc/trapline/trapline.yaml"
check "upgrade keeps the catalog ($before observations)" bash -c "[[ \$(chroot '$root' sqlite3 /var/lib/trapline/catalog.db 'select count(*) from observations') == '$before' && '$before' -ge 1 ]]"

check "remove" in_root apt-get remove -y -q trapline
check "remove deletes the binary" test ! -e "$root/usr/bin/trapline"
check "remove keeps the configuration" test -f "$root/etc/trapline/trapline.yaml"
check "remove keeps the catalog" test -f "$root/var/lib/trapline/catalog.db"
check "purge" in_root apt-get purge -y -q trapline
check "purge removes the configuration" test ! -e "$root/etc/trapline/trapline.yaml"
check "purge removes the state" test ! -e "$root/var/lib/trapline"

echo
if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"

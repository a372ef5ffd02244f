#!/usr/bin/env bash
# Print the directory holding a `pythonX.Y` interpreter (with pip) for the Lambda runtime
# version given, building one if the machine has none. Logs go to stderr; stdout is the
# directory only, so callers can do: PATH="$(infra/ensure-build-python.sh 3.13):$PATH".
#
# Why: `sam build` without a container resolves and vendors dependencies with an interpreter of
# exactly the function's runtime version found on PATH (python3.13 for Runtime: python3.13): it
# evaluates dependency markers with it and asks pip for wheels of that CPython ABI. A different
# interpreter is refused, and a container build needs Docker plus an image registry.
#
# Where the interpreter comes from, first found wins:
#   1. `pythonX.Y` already on PATH;
#   2. a pyenv-installed X.Y (the development machine image ships pyenv with 3.12 and 3.13);
#   3. a previous build of step 4 under PREFIX;
#   4. a build of CPython X.Y from Debian's own source package (apt-get source from the Debian
#      release that ships pythonX.Y), into PREFIX. It reads the mirror from this machine's apt
#      configuration and uses a private apt state directory, so the system's apt sources and
#      packages are left as they were (only the C build dependencies are apt-get installed).
#      About 5 minutes on 2 cores; later runs on the same machine find it in step 3.
#
# Usage: infra/ensure-build-python.sh [X.Y] [--build]   (--build skips steps 1-3, for testing)
# Environment: BUILD_PYTHON_PREFIX (default /opt/pythonX.Y, or ~/.local/pythonX.Y if not root).
set -euo pipefail

version="3.13"
force_build=false
for argument in "$@"; do
  case "$argument" in
    --build) force_build=true ;;
    [0-9].[0-9]*) version="$argument" ;;
    *) echo "usage: $0 [X.Y] [--build]" >&2; exit 64 ;;
  esac
done
binary="python$version"
if [ "$(id -u)" = 0 ]; then default_prefix="/opt/$binary"; else default_prefix="$HOME/.local/$binary"; fi
prefix="${BUILD_PYTHON_PREFIX:-$default_prefix}"

log() { echo "ensure-build-python: $*" >&2; }

# A usable interpreter runs, is the right version, and has pip (sam build runs `-m pip`).
usable() {
  [ -x "$1" ] && "$1" -c "import sys, ssl; assert sys.version_info[:2] == tuple(map(int, '$version'.split('.')))" \
    2>/dev/null && "$1" -m pip --version >/dev/null 2>&1
}

found() { log "using $1 ($("$1" --version 2>&1))"; dirname "$1"; exit 0; }

if ! $force_build; then
  if candidate="$(command -v "$binary" 2>/dev/null)" && usable "$candidate"; then found "$candidate"; fi
  pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  if command -v pyenv >/dev/null 2>&1; then pyenv_root="$(pyenv root)"; fi
  # Highest installed patch release of X.Y first.
  for directory in $(find "$pyenv_root/versions" -maxdepth 1 -name "$version.*" 2>/dev/null | sort -rV); do
    if usable "$directory/bin/$binary"; then found "$directory/bin/$binary"; fi
  done
  if usable "$prefix/bin/$binary"; then found "$prefix/bin/$binary"; fi
fi

# -- step 4: build from Debian's source package --------------------------------------------------
# The Debian release whose archive carries pythonX.Y (Debian dropped 3.12 before trixie shipped,
# so there is no Debian source for it: use 3.13, or a machine with pyenv's 3.12).
case "$version" in
  3.13) suite="trixie" ;;
  *) log "no Debian release ships $binary to build from; install $binary some other way"; exit 1 ;;
esac
command -v apt-get >/dev/null || { log "no $binary found and no apt-get to fetch its source"; exit 1; }
[ "$(id -u)" = 0 ] || { log "no $binary found; building it needs root for apt-get (or put $binary on PATH)"; exit 1; }

# The mirror this machine's apt already uses (deb822 .sources or one-line sources.list).
mirror="$(
  {
    grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' || true
    grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | sed -E 's/^deb +(\[[^]]*\] +)?//' |
      awk '{print $1}' || true
  } | { grep -v security || true; } | head -n 1
)"
[ -n "$mirror" ] || { log "could not find a Debian mirror in the apt configuration"; exit 1; }

log "no $binary found: building CPython $version from Debian $suite's source package into $prefix"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$work/sources.list"
touch "$work/status"
apt_private=(
  -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Dir::State::status=$work/status"
  -o APT::Sandbox::User=root
)

export DEBIAN_FRONTEND=noninteractive
# Only what CPython needs for pip (ssl, zlib) and the stdlib modules sam build touches.
# Installed only where missing, so that nothing already on the machine is upgraded by the way.
missing=()
for package in build-essential libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev \
  libsqlite3-dev xz-utils; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing build dependencies: ${missing[*]}"
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$work/apt.log" 2>&1 ||
    { tail -n 40 "$work/apt.log" >&2; exit 1; }
fi

apt-get "${apt_private[@]}" update -qq >&2
# apt checks the downloaded files against the signed Sources index.
(cd "$work/src" && apt-get "${apt_private[@]}" source --download-only -qq "$binary" >&2)
tarball="$(ls "$work/src/${binary}_"*.orig.tar.xz)"
tar -xJf "$tarball" -C "$work/src"
source_dir="$(find "$work/src" -maxdepth 1 -type d -name "Python-$version.*" | head -n 1)"

# No --enable-optimizations: PGO would triple the build time for an interpreter that only runs
# pip. --with-ensurepip installs the pip wheel bundled in the source tarball (no download).
(
  cd "$source_dir"
  ./configure --prefix="$prefix" --with-ensurepip=install >"$work/configure.log" 2>&1 ||
    { tail -n 40 "$work/configure.log" >&2; exit 1; }
  make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -n 40 "$work/make.log" >&2; exit 1; }
  make altinstall >"$work/install.log" 2>&1 || { tail -n 40 "$work/install.log" >&2; exit 1; }
)
usable "$prefix/bin/$binary" || { log "the build finished but $prefix/bin/$binary is not usable"; exit 1; }
found "$prefix/bin/$binary"

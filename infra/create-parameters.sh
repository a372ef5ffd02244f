#!/usr/bin/env bash
# Create and rotate the bearer tokens of the manifest-validation HTTP API, and create the shared
# secret of its GitHub push webhook.
#
# The tokens live in one SSM SecureString parameter (encrypted with the AWS managed key
# alias/aws/ssm), comma-separated, and the API function reads that parameter at run time (cached
# for 5 minutes). The parameter is created here and not in template.yaml because CloudFormation
# cannot create SecureString parameters, and a token passed as a stack parameter would be stored
# in the stack's history.
#
# Rotation without downtime: `rotate` appends a new token, so the old and the new one are both
# accepted while callers (the GitHub secret) switch over; `retire` then keeps only the newest.
#
# The webhook secret is one value in its own SecureString parameter (the template's
# WebhookSecretParameterName), which you also paste into the webhook's settings on GitHub:
# `webhook-secret --show` creates it and prints it once. GitHub signs with one secret only, so
# replacing it (`webhook-secret --replace`) fails deliveries until GitHub has the new one too.
#
# A token is never printed, logged or put on a command line (where `ps` could see it): it goes
# to the AWS CLI through a private temporary file, and it is shown only when --show is given or
# handed to `gh secret set` on standard input with --github-repo.
#
# Usage:
#   infra/create-parameters.sh [options] create   # first token; refuses if the parameter exists
#   infra/create-parameters.sh [options] rotate   # add a new token next to the current ones
#   infra/create-parameters.sh [options] retire   # keep only the newest token
#   infra/create-parameters.sh [options] status   # how many tokens, when last changed (no values)
#   infra/create-parameters.sh [options] webhook-secret   # the GitHub webhook secret; refuses
#                                                         # if it exists (unless --replace)
# Options:
#   --name NAME          parameter name (default /manifest-validation/api-tokens, the template's
#                        ApiTokensParameterName default; for webhook-secret
#                        /manifest-validation/github-webhook-secret, WebhookSecretParameterName's)
#   --region REGION      AWS Region (default: the AWS CLI's own, e.g. AWS_REGION or the profile)
#   --profile PROFILE    AWS CLI profile
#   --show               print the new token on standard output (nothing else goes there)
#   --github-repo O/R    store the new token as the MANIFEST_VALIDATION_TOKEN secret of that
#                        repository with the GitHub CLI (gh secret set, token on stdin);
#                        not for webhook-secret
#   --replace            webhook-secret only: overwrite an existing secret with a new one
# Requires: aws (CLI v2 or v1), and openssl or python3 to generate tokens.
set -euo pipefail

name=""
show=false
replace=false
github_repo=""
aws_options=()
command=""

usage() { sed -n '/^# Usage:/,/^# Requires:/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
log() { echo "create-parameters: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="${2:?--name needs a value}"; shift 2 ;;
    --region) aws_options+=(--region "${2:?--region needs a value}"); shift 2 ;;
    --profile) aws_options+=(--profile "${2:?--profile needs a value}"); shift 2 ;;
    --show) show=true; shift ;;
    --github-repo) github_repo="${2:?--github-repo needs OWNER/REPO}"; shift 2 ;;
    --replace) replace=true; shift ;;
    create | rotate | retire | status | webhook-secret) command="$1"; shift ;;
    -h | --help) usage ;;
    *) log "unknown argument: $1"; usage ;;
  esac
done
[ -n "$command" ] || usage
if [ "$command" = webhook-secret ]; then
  name="${name:-/manifest-validation/github-webhook-secret}"
  description="manifest-validation GitHub webhook secret (see infra/README.md)"
  if [ -n "$github_repo" ]; then
    log "--github-repo stores API tokens; paste the webhook secret into the webhook's settings"
    exit 64
  fi
else
  name="${name:-/manifest-validation/api-tokens}"
  description="manifest-validation API bearer tokens (comma-separated; see infra/README.md)"
  if $replace; then log "--replace is for webhook-secret only"; exit 64; fi
fi
case "$name" in
  /*) ;;
  *) log "the parameter name must start with / (the template builds its IAM ARN that way)"; exit 64 ;;
esac
command -v aws >/dev/null || { log "the AWS CLI (aws) is required"; exit 1; }
if [ -n "$github_repo" ]; then
  command -v gh >/dev/null || { log "--github-repo needs the GitHub CLI (gh)"; exit 1; }
fi

# Private scratch space for values on their way to the AWS CLI; removed whatever happens.
umask 077
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

aws_ssm() { aws "${aws_options[@]}" ssm "$@"; }

new_token() {
  # 32 random bytes as 64 hex characters: 256 bits, and no character that needs quoting in a
  # header, a comma-separated list or a GitHub secret.
  if command -v openssl >/dev/null; then
    openssl rand -hex 32
  else
    python3 -c 'import secrets; print(secrets.token_hex(32))'
  fi
}

# The current comma-separated value, or nothing when the parameter does not exist.
current_value() {
  local output
  if output="$(aws_ssm get-parameter --name "$name" --with-decryption \
    --query Parameter.Value --output text 2>"$scratch/error")"; then
    printf '%s' "$output"
  elif grep -q ParameterNotFound "$scratch/error"; then
    return 0
  else
    cat "$scratch/error" >&2
    exit 1
  fi
}

# Write the parameter; the value travels in a file (file://), never in argv.
put_value() {
  printf '%s' "$1" >"$scratch/value"
  aws_ssm put-parameter --name "$name" --type SecureString --key-id alias/aws/ssm --overwrite \
    --description "$description" \
    --value "file://$scratch/value" >/dev/null
}

count_tokens() {
  local value="$1"
  if [ -z "$value" ]; then echo 0; else tr ',' '\n' <<<"$value" | grep -c .; fi
}

hand_out() {
  local token="$1"
  if [ -n "$github_repo" ]; then
    printf '%s' "$token" | gh secret set MANIFEST_VALIDATION_TOKEN --repo "$github_repo"
    log "stored the new token as MANIFEST_VALIDATION_TOKEN in $github_repo"
  fi
  if $show; then
    printf '%s\n' "$token"
  elif [ -z "$github_repo" ]; then
    log "the new token was not shown; read it with: aws ssm get-parameter --with-decryption --name $name"
  fi
}

case "$command" in
  create)
    existing="$(current_value)"
    if [ -n "$existing" ]; then
      log "$name already exists with $(count_tokens "$existing") token(s); use rotate (or retire)"
      exit 1
    fi
    token="$(new_token)"
    put_value "$token"
    log "created $name with one token"
    hand_out "$token"
    ;;
  rotate)
    existing="$(current_value)"
    [ -n "$existing" ] || { log "$name does not exist yet; use create"; exit 1; }
    count="$(count_tokens "$existing")"
    if [ "$count" -ge 2 ]; then
      log "$name already holds $count tokens: finish the last rotation with retire first"
      exit 1
    fi
    token="$(new_token)"
    put_value "$existing,$token"
    log "added a second token to $name; both are accepted (within 5 minutes, the function's cache)"
    log "once every caller uses the new token, run: $0 retire"
    hand_out "$token"
    ;;
  retire)
    existing="$(current_value)"
    [ -n "$existing" ] || { log "$name does not exist"; exit 1; }
    count="$(count_tokens "$existing")"
    if [ "$count" -le 1 ]; then
      log "$name holds $count token; nothing to retire"
      exit 0
    fi
    newest="${existing##*,}"
    put_value "$newest"
    log "retired $((count - 1)) older token(s); only the newest is accepted (within 5 minutes)"
    ;;
  webhook-secret)
    existing="$(current_value)"
    if [ -n "$existing" ] && ! $replace; then
      log "$name already exists; --replace overwrites it (then update the secret on GitHub too)"
      exit 1
    fi
    # The same 256-bit hex form as a token: GitHub accepts it as is, and nothing needs quoting.
    secret="$(new_token)"
    put_value "$secret"
    if [ -n "$existing" ]; then
      log "replaced the secret in $name: deliveries fail with 401 until GitHub has the new one"
    else
      log "created $name"
    fi
    if $show; then
      printf '%s\n' "$secret"
    else
      log "paste it into the webhook's Secret field; read it with: aws ssm get-parameter --with-decryption --name $name"
    fi
    ;;
  status)
    existing="$(current_value)"
    if [ -z "$existing" ]; then
      log "$name does not exist"
      exit 1
    fi
    changed="$(aws_ssm get-parameter --name "$name" --query Parameter.LastModifiedDate --output text)"
    log "$name holds $(count_tokens "$existing") token(s); last changed $changed"
    ;;
esac

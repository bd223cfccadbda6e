/**
 * The Python (`aws:executeScript`, `python3.11`) run by every step of the
 * runbook: `acquire`, `hold` and `restore`. It keeps the same lease and the
 * same dead-man's expiry as `middy-chaos experiment run`: the lease is the
 * CLI's `LeaseRecord` JSON in the companion parameter `<ParameterName>.lease`
 * (created with `Overwrite=False`, so of two runs exactly one holds it), and
 * every value that turns a fault on carries `expiresAt`, renewed every third
 * of the TTL while the automation lives.
 *
 * Kept here as a string so that the package works from its tarball (no file
 * to find beside `lib/`). The tests run it against moto's SSM.
 *
 * @module
 */

/** The first line of {@link RUNBOOK_HANDLERS}: how the local player recognises the handlers. */
export const RUNBOOK_MARKER = '# middy-chaos runbook handlers v1'

/** The handlers a runbook step runs. */
export const RUNBOOK_HANDLER_NAMES = ['acquire', 'hold', 'restore'] as const

/** One of {@link RUNBOOK_HANDLER_NAMES}. */
export type RunbookHandler = (typeof RUNBOOK_HANDLER_NAMES)[number]

/**
 * How long after a hold's planned end the value it stamps may still inject,
 * seconds (the `GraceSeconds` of every hold step): the time SSM takes to start
 * the next step, whose first write renews or replaces the value. An
 * automation that dies during a hold stops injecting at most this long after
 * the hold's planned end, and at most `LeaseTtlSeconds` after its last
 * renewal. Should SSM take longer between two steps, a fault ends that much
 * before its step does, never later.
 */
export const EXPIRY_GRACE_SECONDS = 10

/** `host` of a lease taken by an automation (its `pid` is 0). */
export const AUTOMATION_HOST = 'aws-ssm-automation'

/**
 * The Python source of the runbook's handlers. Each handler takes SSM
 * Automation's `(events, context)`; `events` is the step's `InputPayload`:
 *
 * - `acquire` — `ParameterName`, `LeaseTtlSeconds`, `ExecutionId`,
 *   `Experiment`, `LeaseTier` (optional, `Advanced`): creates the lease
 *   (`Overwrite=False`: a run holding it already makes this one fail,
 *   changing nothing), then records the parameter's value, version and type
 *   in it (`original`, `null` when the parameter does not exist). With
 *   `LeaseTier`, the lease is an Advanced-tier parameter (8 KB), and says so
 *   (`tier`), so every rewrite keeps it there.
 * - `hold` — `ParameterName`, `LeaseTtlSeconds`, `ExecutionId`, `Config`,
 *   `Stamp`, `HoldSeconds`, `GraceSeconds` (optional, default
 *   {@link EXPIRY_GRACE_SECONDS}): checks it holds the lease, writes `Config`
 *   (with `expiresAt` when `Stamp` is `true`), and until `HoldSeconds` pass,
 *   every third of the TTL, renews the lease and the stamp of the value in
 *   force (kept in the lease as `inForce`, so a wait-only step renews it too).
 *   The lease is renewed one TTL ahead; a stamp too, but never past the
 *   hold's planned end plus `GraceSeconds` (a hold of 0 s has no end to cap
 *   it: the next step renews the value at once).
 * - `restore` — `ParameterName`, `ExecutionId`: when this execution holds the
 *   lease, writes the recorded value back with its type (or deletes the
 *   parameter if it did not exist), then deletes the lease; otherwise does
 *   nothing. It runs on the cancel path, which SSM gives two minutes: its
 *   calls wait at most 5 s to connect and 5 s to read, and are tried twice.
 *
 * Each also takes `KmsKeyId` (optional): every SecureString it writes (the
 * parameter, and the lease of a SecureString parameter) is encrypted with
 * that key; without it, with SSM's default key for the account.
 *
 * @example
 * ```ts
 * import { RUNBOOK_HANDLERS } from '@middy-chaos/fis'
 * RUNBOOK_HANDLERS.split('\n')[0] // '# middy-chaos runbook handlers v1'
 * ```
 */
// biome-ignore lint/complexity/noUselessStringRaw: the Python stays as written, backslashes included
export const RUNBOOK_HANDLERS = String.raw`# middy-chaos runbook handlers v1
# The lease (<ParameterName>.lease) and expiresAt stamps of @middy-chaos/cli; see @middy-chaos/fis.
import json
import time
from datetime import datetime, timedelta, timezone

import boto3


def _iso(t):
    # As JavaScript's toISOString: 2026-12-01T12:00:00.000Z
    t = t.astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def _instant(value):
    # An expiresAt as the middlewares read it: ISO 8601, or epoch milliseconds.
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, timezone.utc) if value >= 1e11 else None
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _stamp(text, expires):
    # The CLI's stampExpiry: expiresAt set, or the value's own kept when sooner.
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if not isinstance(value, dict):
        return text
    own = _instant(value.get("expiresAt"))
    value["expiresAt"] = _iso(min(own, expires) if own else expires)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _read_lease(ssm, name):
    try:
        lease = json.loads(ssm.get_parameter(Name=name + ".lease", WithDecryption=True)["Parameter"]["Value"])
    except (ssm.exceptions.ParameterNotFound, ValueError):
        return None
    return lease if isinstance(lease, dict) else None


def _put(ssm, name, value, kind, key, overwrite=True, tier=None):
    # A SecureString is encrypted with the key the runbook was given (KmsKeyId), else SSM's default.
    extra = {"KeyId": key} if kind == "SecureString" and key else {}
    if tier:
        extra["Tier"] = tier
    ssm.put_parameter(Name=name, Value=value, Type=kind, Overwrite=overwrite, **extra)


def _write_lease(ssm, name, lease, key, overwrite=True):
    # The lease holds the value from before: as protected as the parameter it comes from.
    _put(ssm, name + ".lease", json.dumps(lease, separators=(",", ":")),
         "SecureString" if lease.get("secure") else "String", key, overwrite, lease.get("tier"))


def acquire(events, context):
    ssm, name, key = boto3.client("ssm"), events["ParameterName"], events.get("KmsKeyId")
    now = datetime.now(timezone.utc)
    ttl = timedelta(seconds=float(events["LeaseTtlSeconds"]))
    lease = {"id": events["ExecutionId"], "experiment": events["Experiment"], "host": "aws-ssm-automation",
             "pid": 0, "since": _iso(now), "expiresAt": _iso(now + ttl)}
    if events.get("LeaseTier") == "Advanced":
        # 8 KB rather than 4 KB, for a large config: AWS charges for advanced parameters.
        lease["tier"] = "Advanced"
    try:
        if ssm.get_parameter(Name=name, WithDecryption=False)["Parameter"]["Type"] == "SecureString":
            lease["secure"] = True
    except ssm.exceptions.ParameterNotFound:
        pass
    try:
        _write_lease(ssm, name, lease, key, overwrite=False)
    except ssm.exceptions.ParameterAlreadyExists:
        held = _read_lease(ssm, name) or {}
        raise RuntimeError("%s is held by experiment %s (host %s, expires %s): nothing was changed; after a "
                           "dead run: middy-chaos recover --store ssm" % (name, held.get("experiment"),
                                                                         held.get("host"), held.get("expiresAt")))
    try:
        p = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        lease["original"] = {"value": p["Value"], "version": p["Version"], "type": p["Type"]}
    except ssm.exceptions.ParameterNotFound:
        lease["original"] = None
    _write_lease(ssm, name, lease, key)
    return {"original": lease["original"] and lease["original"]["version"]}


def hold(events, context):
    ssm, name, run = boto3.client("ssm"), events["ParameterName"], events["ExecutionId"]
    key, ttl = events.get("KmsKeyId"), timedelta(seconds=float(events["LeaseTtlSeconds"]))
    seconds = float(events.get("HoldSeconds") or 0)
    end = time.monotonic() + seconds
    # A stamp never outlives the hold's planned end by more than GraceSeconds; a hold of 0 s: one TTL.
    grace = float(events.get("GraceSeconds") or ${EXPIRY_GRACE_SECONDS})
    cap = datetime.now(timezone.utc) + timedelta(seconds=seconds + grace) if seconds > 0 else None
    pending = events.get("Config") or ""
    writes = 0
    while True:
        lease = _read_lease(ssm, name)
        if not lease or lease.get("id") != run or "original" not in lease:
            raise RuntimeError("lost the lease on %s (now %s): not writing" % (name, lease and lease.get("id")))
        if pending:
            lease.pop("inForce", None)
            if str(events.get("Stamp")).lower() == "true":
                lease["inForce"] = pending
        now = datetime.now(timezone.utc)
        lease["expiresAt"] = _iso(now + ttl)
        _write_lease(ssm, name, lease, key)
        expires = min(now + ttl, cap) if cap else now + ttl
        value = _stamp(lease["inForce"], expires) if lease.get("inForce") else pending
        if value:
            original = lease["original"]
            _put(ssm, name, value, original["type"] if original else "String", key)
            writes += 1
        pending = ""
        left = end - time.monotonic()
        if left <= 0:
            return {"writes": writes, "expiresAt": lease["expiresAt"]}
        time.sleep(min(max(ttl.total_seconds() / 3, 1), left))


def _cancel_path_client():
    # Restore runs on the cancel path, two minutes in all: no call may hang or retry for long.
    from botocore.config import Config
    return boto3.client("ssm", config=Config(connect_timeout=5, read_timeout=5,
                                             retries={"total_max_attempts": 2, "mode": "standard"}))


def restore(events, context):
    ssm, name = _cancel_path_client(), events["ParameterName"]
    lease = _read_lease(ssm, name)
    if not lease or lease.get("id") != events["ExecutionId"]:
        return {"restore": "nothing: this execution does not hold the lease"}
    original = lease.get("original", False)
    if original:
        _put(ssm, name, original["value"], original["type"], events.get("KmsKeyId"))
        result = "wrote back the value of version %s" % original["version"]
    elif original is None:
        try:
            ssm.delete_parameter(Name=name)
        except ssm.exceptions.ParameterNotFound:
            pass
        result = "deleted the parameter: it did not exist before"
    else:
        result = "nothing: nothing was written"
    try:
        ssm.delete_parameter(Name=name + ".lease")
    except ssm.exceptions.ParameterNotFound:
        pass
    return {"restore": result}
`

//! The behaviour chosen by a request's first identifier: errors, faults,
//! `fault-X-N` counts, `ttl-N` and `slow-N`.

use crate::server::State;
use crate::service::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Behaviour {
    Token(i64),
    Slow(u64),
    Fail(Error),
    Reset,
    Hang,
    Trickle,
    Truncated,
    NoToken,
    EmptyToken,
    NoExpiry,
    Expired,
    Garbage,
    Html,
    Huge,
}

fn fault(name: &str) -> Option<Behaviour> {
    Some(match name {
        "fault-throttle" => Behaviour::Fail(Error::Throttling),
        "fault-500" => Behaviour::Fail(Error::Internal),
        "fault-503" => Behaviour::Fail(Error::Unavailable),
        "fault-reset" => Behaviour::Reset,
        "fault-hang" => Behaviour::Hang,
        "fault-trickle" => Behaviour::Trickle,
        "fault-truncated" => Behaviour::Truncated,
        "fault-notoken" => Behaviour::NoToken,
        "fault-emptytoken" => Behaviour::EmptyToken,
        "fault-noexpiry" => Behaviour::NoExpiry,
        "fault-expired" => Behaviour::Expired,
        "fault-garbage" => Behaviour::Garbage,
        "fault-html" => Behaviour::Html,
        "fault-huge" => Behaviour::Huge,
        _ => return None,
    })
}

pub(crate) const MAX_SLOW_MS: i64 = 60_000;

pub(crate) fn bounded(text: &str, max: i64) -> Option<i64> {
    if text.is_empty() || text.len() > 7 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| (1..=max).contains(n))
}

/// The behaviour for a request whose first identifier is `first`;
/// `fault-X-N` counts its requests and applies fault X to the first N.
pub(crate) fn behaviour(state: &State, first: &str) -> Behaviour {
    let name = first.to_ascii_lowercase();
    let normal = Behaviour::Token(state.token_ttl_secs);
    match name.as_str() {
        "err-notfound" => return Behaviour::Fail(Error::ClusterNotFound),
        "err-state" => return Behaviour::Fail(Error::InvalidClusterState),
        "err-invalid" => return Behaviour::Fail(Error::InvalidParameter),
        "err-unsupported" => return Behaviour::Fail(Error::Unsupported),
        "err-denied" => return Behaviour::Fail(Error::AccessDenied),
        "err-unknown" => return Behaviour::Fail(Error::Unmodelled),
        _ => {}
    }
    if let Some(b) = fault(&name) {
        return b;
    }
    if let Some(ttl) = name.strip_prefix("ttl-").and_then(|n| bounded(n, 86_400)) {
        return Behaviour::Token(ttl);
    }
    if let Some(ms) = name
        .strip_prefix("slow-")
        .and_then(|n| bounded(n, MAX_SLOW_MS))
    {
        return Behaviour::Slow(ms as u64);
    }
    if let Some((base, count)) = name.rsplit_once('-') {
        if let (Some(b), Some(limit)) = (fault(base), bounded(count, 1_000_000)) {
            let seen = state.count_fault(&name);
            return if seen < limit as u64 { b } else { normal };
        }
    }
    normal
}

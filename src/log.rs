//! Logging: the library's own records and the AWS SDK's `tracing` events,
//! filtered by level and written to stderr or handed to the host's sink.
//!
//! Records never carry a token, secret key or session token: the library
//! logs token lengths and expiries only, and SDK fields that may hold a
//! body (`request`, `response`, `body`) or a credential are replaced
//! before a record is formatted.

use std::cell::RefCell;
use std::ffi::c_int;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Environment variable that sets the level written to stderr:
/// `error`, `warn`, `info`, `debug` or `trace` (also `off`).
pub const ENV_LOG: &str = "RS_IDC_LOG";

/// Log level: nothing is logged (the default unless RS_IDC_LOG is set).
pub const RS_IDC_LOG_OFF: c_int = 0;
/// Log level: failures.
pub const RS_IDC_LOG_ERROR: c_int = 1;
/// Log level: conditions worth a look: retries, refused settings.
pub const RS_IDC_LOG_WARN: c_int = 2;
/// Log level: one line per call to the service.
pub const RS_IDC_LOG_INFO: c_int = 3;
/// Log level: cache decisions and the AWS SDK's progress.
pub const RS_IDC_LOG_DEBUG: c_int = 4;
/// Log level: everything, the AWS SDK's internals included.
pub const RS_IDC_LOG_TRACE: c_int = 5;

/// Log levels, from least to most verbose; `Off` logs nothing. Their
/// numbers are the `RS_IDC_LOG_*` constants of the C API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum LogLevel {
    /// Nothing is logged.
    Off = RS_IDC_LOG_OFF as u8,
    /// Failures.
    Error = RS_IDC_LOG_ERROR as u8,
    /// Conditions worth a look: retries, refused settings.
    Warn = RS_IDC_LOG_WARN as u8,
    /// One line per call to the service.
    Info = RS_IDC_LOG_INFO as u8,
    /// Cache decisions and the SDK's progress.
    Debug = RS_IDC_LOG_DEBUG as u8,
    /// Everything, the SDK's internals included.
    Trace = RS_IDC_LOG_TRACE as u8,
}

impl LogLevel {
    /// The level named by `text` (case-insensitive), if any.
    pub fn parse(text: &str) -> Option<LogLevel> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "off" | "none" | "0" => LogLevel::Off,
            "error" | "1" => LogLevel::Error,
            "warn" | "warning" | "2" => LogLevel::Warn,
            "info" | "3" => LogLevel::Info,
            "debug" | "4" => LogLevel::Debug,
            "trace" | "5" => LogLevel::Trace,
            _ => return None,
        })
    }

    /// The level of a number, clamped to `Off..=Trace`.
    pub fn from_number(level: c_int) -> LogLevel {
        match level {
            c_int::MIN..=RS_IDC_LOG_OFF => LogLevel::Off,
            RS_IDC_LOG_ERROR => LogLevel::Error,
            RS_IDC_LOG_WARN => LogLevel::Warn,
            RS_IDC_LOG_INFO => LogLevel::Info,
            RS_IDC_LOG_DEBUG => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }

    fn of(level: &Level) -> LogLevel {
        match *level {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warn,
            Level::INFO => LogLevel::Info,
            Level::DEBUG => LogLevel::Debug,
            Level::TRACE => LogLevel::Trace,
        }
    }

    fn name(self) -> &'static str {
        match self {
            LogLevel::Off => "off",
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// Where records go: a function that takes the level and the line.
pub type LogSink = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// The host's sink and how many deliveries to it are running.
struct Installed {
    sink: LogSink,
    delivering: AtomicUsize,
}

static LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Off as u8);
static SINK: RwLock<Option<Arc<Installed>>> = RwLock::new(None);

thread_local! {
    /// The sinks this thread is delivering to right now, innermost last.
    static INSIDE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// One delivery to a sink: counted from before the sink can be replaced
/// until the sink returns.
struct Delivery {
    installed: Arc<Installed>,
}

impl Delivery {
    /// The current sink, if any, with a delivery counted.
    fn start() -> Option<Delivery> {
        let current = crate::fork::read(&SINK);
        let installed = Arc::clone(current.as_ref()?);
        // Counted under the read lock: once `set_sink` has swapped the
        // sink under the write lock, no new delivery to the old one starts.
        installed.delivering.fetch_add(1, Ordering::SeqCst);
        drop(current);
        let _ = INSIDE.try_with(|inside| inside.borrow_mut().push(address(&installed)));
        Some(Delivery { installed })
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        let _ = INSIDE.try_with(|inside| inside.borrow_mut().pop());
        self.installed.delivering.fetch_sub(1, Ordering::SeqCst);
    }
}

fn address(installed: &Arc<Installed>) -> usize {
    Arc::as_ptr(installed) as usize
}

/// Sets the most verbose level that is logged.
pub fn set_level(level: LogLevel) {
    install();
    LEVEL.store(level as u8, Ordering::Relaxed);
    // Callsites remember whether they were enabled; make them ask again.
    tracing::callsite::rebuild_interest_cache();
}

/// The most verbose level that is logged now.
pub fn level() -> LogLevel {
    LogLevel::from_number(LEVEL.load(Ordering::Relaxed).into())
}

/// Sends records to `sink`, or to stderr when `None`.
///
/// Returns once no thread is delivering to the previous sink any more,
/// except deliveries of the calling thread itself (when it is called from
/// inside that sink).
pub fn set_sink(sink: Option<LogSink>) {
    install();
    let installed = sink.map(|sink| {
        Arc::new(Installed {
            sink,
            delivering: AtomicUsize::new(0),
        })
    });
    let previous = std::mem::replace(&mut *crate::fork::write(&SINK), installed);
    let Some(previous) = previous else { return };
    let own = INSIDE
        .try_with(|inside| {
            let at = address(&previous);
            inside.borrow().iter().filter(|a| **a == at).count()
        })
        .unwrap_or(0);
    while previous.delivering.load(Ordering::SeqCst) > own {
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// Installs the library's subscriber and reads `RS_IDC_LOG`, once per
/// process: a level there turns stderr logging on. Later calls do nothing.
///
/// Clients call it when they are made, on the host's thread, so that the
/// logging globals are never half-built on a worker thread when the host
/// calls `fork()`.
pub fn init_from_env() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        install();
        if let Some(level) = std::env::var(ENV_LOG)
            .ok()
            .as_deref()
            .and_then(LogLevel::parse)
        {
            set_level(level);
        }
    });
}

/// Makes this library's copy of `tracing` report to [`Logger`]. When a
/// Rust program has set its own global subscriber, that one stays.
fn install() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = tracing::subscriber::set_global_default(Logger {
            next_span: AtomicU64::new(1),
        });
    });
}

/// A `tracing` subscriber that formats events into single lines; spans
/// are not recorded.
struct Logger {
    next_span: AtomicU64,
}

impl Subscriber for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        LogLevel::of(metadata.level()) <= level()
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        use tracing::level_filters::LevelFilter;
        Some(match level() {
            LogLevel::Off => LevelFilter::OFF,
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        })
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed).max(1))
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let level = LogLevel::of(event.metadata().level());
        if level > self::level() {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        let text = format!(
            "rs-idc {} {}: {}{}",
            level.name(),
            event.metadata().target(),
            line.message,
            line.fields
        );
        emit(level, &text);
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

fn emit(level: LogLevel, text: &str) {
    let text = crate::error::without_userinfo(text);
    match Delivery::start() {
        Some(delivery) => (delivery.installed.sink)(level, &text),
        None => eprintln!("{text}"),
    }
}

/// Field names whose values may hold a body or a credential (the SDK's
/// orchestrator prints whole operation inputs and outputs in `input` and
/// `output_or_error`, and not every secret in them is marked sensitive).
const REDACTED_FIELDS: &[&str] = &[
    "request",
    "response",
    "body",
    "input",
    "output",
    "output_or_error",
    "token",
    "credentials",
    "identity",
    "secret_access_key",
    "session_token",
];

/// One event's message and fields, with risky values replaced.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let name = field.name();
        if REDACTED_FIELDS.contains(&name) {
            let _ = write!(self.fields, " {name}=<redacted>");
            return;
        }
        let text = scrub(&format!("{value:?}"));
        if name == "message" {
            self.message = text;
        } else {
            let _ = write!(self.fields, " {name}={text}");
        }
    }
}

/// Cuts anything that looks like a token answer out of a formatted value:
/// the text of a `<Token>` element or of a JSON `"token"` member, and an
/// identity context however it is spelled.
fn scrub(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let marker = [
        "<token>",
        "\"token\"",
        "\\\"token\\\"",
        "identity_context",
        "identitycontext",
        "contextassertion",
    ]
    .iter()
    .filter_map(|m| lower.find(m))
    .min();
    match marker {
        Some(at) => format!("{}<redacted>", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_in_any_case() {
        assert_eq!(LogLevel::parse("TRACE"), Some(LogLevel::Trace));
        assert_eq!(LogLevel::parse(" warn "), Some(LogLevel::Warn));
        assert_eq!(LogLevel::parse("off"), Some(LogLevel::Off));
        assert_eq!(LogLevel::parse("loud"), None);
        assert_eq!(LogLevel::from_number(9), LogLevel::Trace);
        assert_eq!(LogLevel::from_number(-3), LogLevel::Off);
    }

    /// The sink is process-wide: tests that replace it take turns.
    static SINK_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn replacing_the_sink_waits_for_deliveries_to_the_old_one() {
        let _turn = SINK_TESTS.lock().unwrap_or_else(|p| p.into_inner());
        use std::sync::atomic::AtomicBool;
        use std::sync::Barrier;
        let entered = Arc::new(Barrier::new(2));
        let finished = Arc::new(AtomicBool::new(false));
        let (e, f) = (Arc::clone(&entered), Arc::clone(&finished));
        set_sink(Some(Arc::new(move |_, line: &str| {
            if line.contains("slow record") {
                e.wait();
                std::thread::sleep(Duration::from_millis(300));
                f.store(true, Ordering::SeqCst);
            }
        })));
        let writer = std::thread::spawn(|| emit(LogLevel::Error, "slow record"));
        entered.wait();
        set_sink(None);
        // The old sink's delivery ended before set_sink returned.
        assert!(finished.load(Ordering::SeqCst));
        writer.join().unwrap();
    }

    #[test]
    fn a_sink_may_replace_itself_from_inside() {
        let _turn = SINK_TESTS.lock().unwrap_or_else(|p| p.into_inner());
        set_sink(Some(Arc::new(|_, line: &str| {
            if line.contains("replace me") {
                set_sink(None);
            }
        })));
        emit(LogLevel::Error, "replace me");
        assert!(crate::fork::read(&SINK).is_none());
    }

    #[test]
    fn token_answers_are_cut_out_of_values() {
        let xml = "body: <GetIdentityCenterAuthTokenResult><Token>SECRETTOKEN</Token>";
        assert!(!scrub(xml).contains("SECRETTOKEN"));
        let json = r#"b"{\"token\":\"SECRETTOKEN\",\"expirationTime\":1}""#;
        assert!(!scrub(json).contains("SECRETTOKEN"));
        for context in [
            "AwsAdditionalDetails { identity_context: Some(\"SECRETCONTEXT\") }",
            r#"{"awsAdditionalDetails":{"identityContext":"SECRETCONTEXT"}}"#,
            "ProvidedContexts.member.1.ContextAssertion=SECRETCONTEXT",
        ] {
            assert!(!scrub(context).contains("SECRETCONTEXT"), "{context}");
        }
        assert_eq!(scrub("nothing here"), "nothing here");
    }
}

//! API answers in the query protocol (XML) and JSON 1.1, one builder for
//! Redshift, Redshift Serverless, STS and the custom domain lookups: every
//! answer carries `x-amzn-RequestId`, errors have their protocol's shape.

use crate::http;
use crate::service::{json_string, request_id, xml_escape, Protocol, Reply};

pub(crate) type Failure = (u16, &'static str, String);

pub(crate) struct Answer {
    pub protocol: Protocol,
    pub xmlns: &'static str,
    pub request_id: String,
    pub close: bool,
}

impl Answer {
    pub(crate) fn new(protocol: Protocol, xmlns: &'static str, close: bool) -> Answer {
        let request_id = request_id();
        Answer {
            protocol,
            xmlns,
            request_id,
            close,
        }
    }

    pub(crate) fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("x-amzn-RequestId", self.request_id.clone()),
            ("Content-Type", self.protocol.content_type().to_string()),
        ]
    }

    /// `<ErrorResponse>` (query; `Receiver` for 5xx) or `{"__type",
    /// "message"}` with `x-amzn-ErrorType` (JSON).
    pub(crate) fn error(&self, (status, code, message): Failure) -> Reply {
        let (rid, xmlns, mut headers) = (&self.request_id, self.xmlns, self.headers());
        let body = match self.protocol {
            Protocol::Query => {
                let kind = if status >= 500 { "Receiver" } else { "Sender" };
                let message = xml_escape(&message);
                format!(
                    "<ErrorResponse xmlns=\"{xmlns}\">\n  <Error>\n    <Type>{kind}</Type>\n    \
                     <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n  \
                     <RequestId>{rid}</RequestId>\n</ErrorResponse>\n"
                )
            }
            Protocol::Json => {
                headers.push(("x-amzn-ErrorType", code.to_string()));
                let (code, message) = (json_string(code), json_string(&message));
                format!("{{\"__type\":{code},\"message\":{message}}}")
            }
        };
        Reply::Bytes(http::response(
            status,
            &headers,
            body.as_bytes(),
            self.close,
        ))
    }

    pub(crate) fn success(&self, body: &[u8]) -> Reply {
        Reply::Bytes(http::response(200, &self.headers(), body, self.close))
    }

    /// `<{action}Response>` around `<{action}Result>` holding `result`, and
    /// the request ID.
    pub(crate) fn wrapped(&self, action: &str, result: &str) -> String {
        let (rid, xmlns) = (&self.request_id, self.xmlns);
        format!(
            "<{action}Response xmlns=\"{xmlns}\">\n  <{action}Result>\n{result}  </{action}Result>\n  \
             <ResponseMetadata>\n    <RequestId>{rid}</RequestId>\n  </ResponseMetadata>\n\
             </{action}Response>\n"
        )
    }
}

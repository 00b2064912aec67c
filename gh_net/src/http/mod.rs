//! HTTP/1.1 server side: an in-place, incremental request parser and a response-head writer.

pub mod date;
pub mod request;
pub mod response;

/// An HTTP status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status(pub u16);

impl Status {
    /// 200 OK.
    pub const OK: Status = Status(200);
    /// 304 Not Modified.
    pub const NOT_MODIFIED: Status = Status(304);
    /// 400 Bad Request: syntax, or a request-smuggling shape.
    pub const BAD_REQUEST: Status = Status(400);
    /// 404 Not Found.
    pub const NOT_FOUND: Status = Status(404);
    /// 405 Method Not Allowed: a method GigaHttpd knows but does not serve.
    pub const METHOD_NOT_ALLOWED: Status = Status(405);
    /// 412 Precondition Failed: an `If-Match` that does not hold.
    pub const PRECONDITION_FAILED: Status = Status(412);
    /// 411 Length Required: POST with neither Content-Length nor a chunked body.
    pub const LENGTH_REQUIRED: Status = Status(411);
    /// 413 Content Too Large.
    pub const CONTENT_TOO_LARGE: Status = Status(413);
    /// 414 URI Too Long.
    pub const URI_TOO_LONG: Status = Status(414);
    /// 431 Request Header Fields Too Large.
    pub const HEADER_FIELDS_TOO_LARGE: Status = Status(431);
    /// 500 Internal Server Error.
    pub const INTERNAL_SERVER_ERROR: Status = Status(500);
    /// 501 Not Implemented: unknown method or Transfer-Encoding.
    pub const NOT_IMPLEMENTED: Status = Status(501);
    /// 503 Service Unavailable: a wait list is over its bound.
    pub const SERVICE_UNAVAILABLE: Status = Status(503);
    /// 505 HTTP Version Not Supported.
    pub const VERSION_NOT_SUPPORTED: Status = Status(505);

    /// The reason phrase sent on the status line.
    pub fn reason(self) -> &'static str {
        match self.0 {
            200 => "OK",
            304 => "Not Modified",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            411 => "Length Required",
            412 => "Precondition Failed",
            413 => "Content Too Large",
            414 => "URI Too Long",
            431 => "Request Header Fields Too Large",
            500 => "Internal Server Error",
            501 => "Not Implemented",
            503 => "Service Unavailable",
            505 => "HTTP Version Not Supported",
            _ => "",
        }
    }

    /// True for statuses whose responses never carry a body (RFC 9110 section 6.4.1).
    pub fn has_no_body(self) -> bool {
        self.0 == 304 || self.0 == 204 || (100..200).contains(&self.0)
    }
}

/// The request methods GigaHttpd serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// HEAD: like GET, head only.
    Head,
    /// POST with a body (Content-Length or chunked).
    Post,
}

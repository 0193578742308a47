//! The stylesheet and the one script, served by the dashboard itself (no CDN: it works offline).

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::render::PageError;

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");

/// `GET /assets/{file}`.
pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return PageError::not_found(format!("no asset named {file}")).into_response(),
    };
    // The files change only with the crate: a browser may keep them for an hour.
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "private, max-age=3600")], body).into_response()
}

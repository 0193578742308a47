//! `Templates`: the mail views, in Jinja syntax (minijinja), with layouts.

use std::fmt;
use std::path::Path;

use minijinja::{Environment, ErrorKind, Value};

use crate::error::MailError;

/// The templates of every mailer: `MAILER/ACTION.text.jinja`, `MAILER/ACTION.html.jinja` and
/// the layouts `layouts/NAME.text.jinja`, `layouts/NAME.html.jinja`, as Rails keeps
/// `app/views/user_mailer/welcome.html.erb` and `app/views/layouts/mailer.html.erb`.
///
/// Templates use Jinja syntax (`{{ name }}`, `{% if %}`, `{% for %}`, filters); `.html.jinja`
/// templates escape what they print unless it is marked `|safe`. A layout prints the rendered
/// template with `{{ content }}` (Rails' `yield`) and sees the same variables. A template may
/// also `{% extends %}` another, as Jinja does.
///
/// ```
/// use jobs_mailer::Templates;
///
/// let templates = Templates::new()
///     .add("user_mailer/welcome.text.jinja", "Hello {{ name }}")?
///     .add("user_mailer/welcome.html.jinja", "<p>Hello {{ name }}</p>")?
///     .add("layouts/mailer.html.jinja", "<html><body>{{ content }}</body></html>")?;
/// assert_eq!(templates.names().len(), 3);
/// # Ok::<(), jobs_mailer::MailError>(())
/// ```
#[derive(Clone)]
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Templates").field("names", &self.names()).finish()
    }
}

/// Which part of a mail a template renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Text,
    Html,
}

impl Part {
    fn extension(self) -> &'static str {
        match self {
            Part::Text => "text.jinja",
            Part::Html => "html.jinja",
        }
    }
}

impl Templates {
    /// No templates.
    pub fn new() -> Self {
        Templates { env: Environment::new() }
    }

    /// Every `*.jinja` file under `dir`, named by its path below it (`user_mailer/welcome.html.jinja`).
    /// Read and checked once, here: a template that does not parse is an error now, not when a
    /// mail is sent.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, MailError> {
        let dir = dir.as_ref();
        let mut templates = Templates::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(current) = pending.pop() {
            let entries = std::fs::read_dir(&current).map_err(|e| {
                MailError::Config(format!("cannot read the template folder {}: {e}", current.display()))
            })?;
            for entry in entries {
                let path = entry.map_err(|e| MailError::Config(format!("{}: {e}", current.display())))?.path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "jinja") {
                    let source = std::fs::read_to_string(&path)
                        .map_err(|e| MailError::Config(format!("cannot read {}: {e}", path.display())))?;
                    let name = path
                        .strip_prefix(dir)
                        .unwrap_or(&path)
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    templates = templates.add(name, source)?;
                }
            }
        }
        Ok(templates)
    }

    /// Adds a template by name, e.g. from `include_str!`.
    pub fn add(mut self, name: impl Into<String>, source: impl Into<String>) -> Result<Self, MailError> {
        let name = name.into();
        self.env
            .add_template_owned(name.clone(), source.into())
            .map_err(|e| MailError::Template(format!("{name}: {e}")))?;
        Ok(self)
    }

    /// The names of the templates, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.env.templates().map(|(name, _)| name.to_owned()).collect();
        names.sort();
        names
    }

    /// Whether a template of this name exists.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.env.get_template(name).is_ok()
    }

    /// The name of the template of `part` for `template` (`user_mailer/welcome`).
    pub(crate) fn name_of(template: &str, part: Part) -> String {
        format!("{template}.{}", part.extension())
    }

    /// Renders `template`'s `part`, inside `layout`'s if the layout has that part; `None` if
    /// there is no template for the part.
    pub(crate) fn render(
        &self,
        template: &str,
        layout: Option<&str>,
        part: Part,
        context: &Value,
    ) -> Result<Option<String>, MailError> {
        let name = Templates::name_of(template, part);
        let body = match self.env.get_template(&name) {
            Ok(t) => t.render(context).map_err(|e| render_error(&name, &e))?,
            Err(e) if e.kind() == ErrorKind::TemplateNotFound => return Ok(None),
            Err(e) => return Err(render_error(&name, &e)),
        };
        self.wrap(body, layout, part, context).map(Some)
    }

    /// `body` inside `layout`'s `part`, when there is one.
    pub(crate) fn wrap(
        &self,
        body: String,
        layout: Option<&str>,
        part: Part,
        context: &Value,
    ) -> Result<String, MailError> {
        let Some(layout) = layout else { return Ok(body) };
        let name = Templates::name_of(&format!("layouts/{layout}"), part);
        let Ok(template) = self.env.get_template(&name) else { return Ok(body) };
        let content = match part {
            Part::Html => Value::from_safe_string(body),
            Part::Text => Value::from(body),
        };
        let context = minijinja::context! { content => content, ..context.clone() };
        template.render(context).map_err(|e| render_error(&name, &e))
    }
}

fn render_error(name: &str, error: &minijinja::Error) -> MailError {
    let mut message = format!("{name}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        message.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    MailError::Template(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_inside_its_layout_and_text_is_not() {
        let templates = Templates::new()
            .add("m/a.text.jinja", "Hi {{ name }}")
            .unwrap()
            .add("m/a.html.jinja", "<b>{{ name }}</b>")
            .unwrap()
            .add("layouts/x.html.jinja", "<body>{{ content }}</body>")
            .unwrap();
        let cx = Value::from(minijinja::value::Serde(serde_json::json!({ "name": "<Ada>" })));
        assert_eq!(
            templates.render("m/a", Some("x"), Part::Html, &cx).unwrap().unwrap(),
            "<body><b>&lt;Ada&gt;</b></body>"
        );
        assert_eq!(templates.render("m/a", Some("x"), Part::Text, &cx).unwrap().unwrap(), "Hi <Ada>");
        assert_eq!(templates.render("m/missing", None, Part::Text, &cx).unwrap(), None);
    }

    #[test]
    fn a_template_that_does_not_parse_is_an_error_when_added() {
        let err = Templates::new().add("m/a.text.jinja", "{% if %}").unwrap_err();
        assert!(err.to_string().starts_with("template error: m/a.text.jinja"), "{err}");
    }
}

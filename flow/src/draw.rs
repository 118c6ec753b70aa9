//! One level of a machine drawn as SVG: laid out top to bottom by dagre,
//! each state a box marked with how the execution stands in it, the
//! transitions taken drawn stronger. A Map or Parallel is one box here; its
//! inside is drawn as a machine of its own (see [`insides`]). The SVG
//! carries classes, not colours, so the page's style sheet colours it for
//! light and dark alike.

use std::fmt::Write as _;

use dagre::graph::{Graph, GraphOptions};
use dagre::{EdgeLabel, GraphLabel, LayoutOptions, NodeLabel};

use crate::graph::{Kind, Machine, State, Via};
use crate::trace::{Mark, Trace};

/// Node ids of the start and end circles: a control character keeps them
/// apart from every state name.
const START: &str = "\u{1}start";
const END: &str = "\u{1}end";

const FONT_PX: f64 = 13.0;
/// An average glyph of the system sans font at 13 px; long names get wider
/// boxes without measuring text on the server.
const GLYPH_PX: f64 = 7.4;
const BOX_HEIGHT: f64 = 34.0;
const CIRCLE: f64 = 18.0;
const LABEL_PX: f64 = 6.2;

/// A drawing's identity on its page: SVG ids must be unique in a
/// document that shows several.
pub struct Drawing<'a> {
    /// A prefix for ids (letters, digits, `-`).
    pub id: &'a str,
    /// What it shows, for the title read by screen readers.
    pub title: &'a str,
    pub machine: &'a Machine,
    pub trace: &'a Trace,
}

/// The Map and Parallel states of a level, each with its inside (one
/// machine for a Map, one per branch for a Parallel).
pub fn insides(machine: &Machine) -> Vec<(&State, &[Machine])> {
    machine
        .states
        .iter()
        .filter(|s| !s.kind.inner().is_empty())
        .map(|s| (s, s.kind.inner()))
        .collect()
}

/// An id fragment for a state (the id of the `<details>` holding its inside).
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    // Distinct names could share a slug; a short hash keeps them apart.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{}-{:06x}", out.trim_matches('-'), hash & 0xff_ffff)
}

impl Drawing<'_> {
    pub fn svg(&self) -> String {
        let mut g: Graph<NodeLabel, EdgeLabel> = Graph::with_options(GraphOptions {
            directed: true,
            multigraph: true,
            compound: false,
        });
        node(&mut g, START, CIRCLE, CIRCLE);
        for state in &self.machine.states {
            node(&mut g, &state.name, box_width(state), BOX_HEIGHT);
        }
        let mut edges: Vec<Edge> = vec![Edge {
            from: START.into(),
            to: self.machine.start.clone(),
            label: None,
            via: "next",
            taken: self.trace.mark(&self.machine.start) != Mark::Untouched,
        }];
        let mut ends = false;
        for state in &self.machine.states {
            for t in &state.transitions {
                if self.machine.state(&t.to).is_none() {
                    continue;
                }
                let caught = matches!(t.via, Via::Catch(_));
                edges.push(Edge {
                    from: state.name.clone(),
                    to: t.to.clone(),
                    label: label(&t.via),
                    via: via_name(&t.via),
                    taken: self.trace.took(&state.name, &t.to, caught),
                });
            }
            if state.end {
                ends = true;
                edges.push(Edge {
                    from: state.name.clone(),
                    to: END.into(),
                    label: None,
                    via: "end",
                    taken: self.trace.mark(&state.name) == Mark::Taken,
                });
            }
        }
        if ends {
            node(&mut g, END, CIRCLE, CIRCLE);
        }
        for (i, e) in edges.iter().enumerate() {
            let mut l = EdgeLabel::default();
            if let Some(label) = &e.label {
                l.width = label.short.chars().count() as f64 * LABEL_PX + 6.0;
                l.height = 14.0;
            }
            g.set_edge(e.from.clone(), e.to.clone(), Some(l), Some(&i.to_string()));
        }
        dagre::layout(
            &mut g,
            Some(LayoutOptions {
                nodesep: 28.0,
                ranksep: 36.0,
                edgesep: 12.0,
                marginx: 8.0,
                marginy: 8.0,
                ..LayoutOptions::default()
            }),
        );
        let (width, height) = g
            .graph_label::<GraphLabel>()
            .map_or((0.0, 0.0), |l| (l.width, l.height));
        self.write(&g, &edges, width, height)
    }

    fn write(&self, g: &Graph<NodeLabel, EdgeLabel>, edges: &[Edge], w: f64, h: f64) -> String {
        let id = self.id;
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="flow" role="img" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
            escape(self.title),
            escape(&self.summary()),
        );
        let _ = write!(
            svg,
            r#"<defs><marker id="{id}-arrow" class="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker><marker id="{id}-arrow-taken" class="arrow taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>"#
        );
        svg.push_str(r#"<g class="edges">"#);
        for (i, e) in edges.iter().enumerate() {
            let Some(l) = g.edge(&e.from, &e.to, Some(&i.to_string())) else {
                continue;
            };
            let mut d = String::new();
            for (n, p) in l.points.iter().enumerate() {
                let _ = write!(d, "{}{:.1},{:.1}", if n == 0 { 'M' } else { 'L' }, p.x, p.y);
            }
            let (class, marker) = if e.taken {
                ("edge taken", format!("{id}-arrow-taken"))
            } else {
                ("edge", format!("{id}-arrow"))
            };
            let _ = write!(
                svg,
                r#"<path class="{class}" data-from="{}" data-to="{}" data-via="{}" d="{d}" marker-end="url(#{marker})"/>"#,
                escape(&shown(&e.from)),
                escape(&shown(&e.to)),
                e.via,
            );
            if let (Some(label), Some(x), Some(y)) = (&e.label, l.x, l.y) {
                let _ = write!(
                    svg,
                    r#"<text class="edge-label" x="{x:.1}" y="{:.1}" text-anchor="middle">{}<title>{}</title></text>"#,
                    y + 4.0,
                    escape(&label.short),
                    escape(&label.full),
                );
            }
        }
        svg.push_str("</g><g class=\"states\">");
        for cap in [START, END] {
            if let Some(n) = g.node(cap) {
                let (x, y) = (n.x.unwrap_or(0.0), n.y.unwrap_or(0.0));
                let _ = write!(
                    svg,
                    r#"<circle class="cap" cx="{x:.1}" cy="{y:.1}" r="{:.1}"><title>{}</title></circle>"#,
                    CIRCLE / 2.0,
                    shown(cap)
                );
            }
        }
        for state in &self.machine.states {
            let Some(n) = g.node(&state.name) else {
                continue;
            };
            self.write_state(&mut svg, state, n);
        }
        svg.push_str("</g></svg>");
        svg
    }

    fn write_state(&self, svg: &mut String, state: &State, n: &NodeLabel) {
        let mark = self.trace.mark(&state.name);
        let (x, y) = (n.x.unwrap_or(0.0), n.y.unwrap_or(0.0));
        let (left, top) = (x - n.width / 2.0, y - n.height / 2.0);
        let kind = state.kind.type_name().to_ascii_lowercase();
        let waits = matches!(state.kind, Kind::Task { waits: true, .. });
        let group = !state.kind.inner().is_empty();
        let name = escape(&state.name);
        let _ = write!(
            svg,
            r#"<g class="state {kind} {}{}{}" data-state="{name}" data-mark="{}">"#,
            mark.as_str(),
            if waits { " asks" } else { "" },
            if group { " group" } else { "" },
            mark.as_str(),
        );
        // A group's inside opens below the picture, in a <details> of its
        // own: a link in here would be interactive content inside role=img,
        // which assistive technology cannot reach (axe: nested-interactive).
        let rx = if matches!(state.kind, Kind::Choice) {
            17
        } else {
            5
        };
        let _ = write!(
            svg,
            r#"<rect x="{left:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" rx="{rx}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{name}</text><title>{}</title>"#,
            n.width,
            n.height,
            y + FONT_PX / 2.0 - 2.0,
            escape(&describe(state, mark)),
        );
        svg.push_str("</g>");
    }

    /// The text alternative: how many states, and where the execution is.
    fn summary(&self) -> String {
        let names = |mark: Mark| -> Vec<&str> {
            self.machine
                .states
                .iter()
                .filter(|s| self.trace.mark(&s.name) == mark)
                .map(|s| s.name.as_str())
                .collect()
        };
        let mut out = format!("{} states.", self.machine.states.len());
        for (mark, words) in [
            (Mark::Taken, "Done"),
            (Mark::Here, "Now at"),
            (Mark::Failed, "Failed"),
        ] {
            let list = names(mark);
            if !list.is_empty() {
                let _ = write!(out, " {words}: {}.", list.join(", "));
            }
        }
        out
    }
}

struct Edge {
    from: String,
    to: String,
    label: Option<Label>,
    /// `next`, `rule`, `default`, `catch` or `end`.
    via: &'static str,
    taken: bool,
}

/// An arrow's words: short on the picture, whole in its tooltip.
struct Label {
    short: String,
    full: String,
}

fn node(g: &mut Graph<NodeLabel, EdgeLabel>, id: &str, width: f64, height: f64) {
    g.set_node(
        id,
        Some(NodeLabel {
            width,
            height,
            ..NodeLabel::default()
        }),
    );
}

fn box_width(state: &State) -> f64 {
    (state.name.chars().count() as f64 * GLYPH_PX + 24.0).max(72.0)
}

fn label(via: &Via) -> Option<Label> {
    let (short, full) = match via {
        Via::Next => return None,
        Via::Rule(i) => (format!("rule {}", i + 1), format!("Choice rule {}", i + 1)),
        Via::Default => ("otherwise".into(), "Choice default".into()),
        Via::Catch(errors) => (
            format!(
                "on {}",
                errors
                    .iter()
                    .map(|e| short_error(e))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!("Catch {}", errors.join(", ")),
        ),
    };
    Some(Label { short, full })
}

fn via_name(via: &Via) -> &'static str {
    match via {
        Via::Next => "next",
        Via::Rule(_) => "rule",
        Via::Default => "default",
        Via::Catch(_) => "catch",
    }
}

/// A long error name without its service prefix and `Exception` suffix
/// ("DynamoDB.ConditionalCheckFailedException" → "ConditionalCheckFailed"),
/// so the label does not widen the whole drawing.
fn short_error(error: &str) -> &str {
    if error.len() <= 20 {
        return error;
    }
    let last = error.rsplit('.').next().unwrap_or(error);
    last.strip_suffix("Exception").unwrap_or(last)
}

fn shown(id: &str) -> String {
    match id {
        START => "Start".into(),
        END => "End".into(),
        name => name.to_owned(),
    }
}

/// A state's tooltip: its type, what it calls, how it stands.
fn describe(state: &State, mark: Mark) -> String {
    let what = match &state.kind {
        Kind::Task {
            resource,
            waits: true,
        } => format!("Task, waits for an answer ({resource})"),
        Kind::Task { resource, .. } => format!("Task ({resource})"),
        Kind::Fail { error: Some(e) } => format!("Fail ({e})"),
        Kind::Map { processor } => format!("Map of {} states", processor.count()),
        Kind::Parallel { branches } => format!("Parallel, {} branches", branches.len()),
        other => other.type_name().to_owned(),
    };
    let how = match mark {
        Mark::Untouched => "not reached",
        Mark::Taken => "done",
        Mark::Here => "the execution is here",
        Mark::Failed => "failed",
    };
    format!("{}: {what}; {how}", state.name)
}

/// Escapes text for SVG content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_slugs_are_safe() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let s = slug("Wait for staff: PENDING");
        assert!(s.starts_with("wait-for-staff-pending-"), "{s}");
        assert_ne!(slug("a b"), slug("a-b"));
        assert!(
            slug("<script>")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        );
    }

    #[test]
    fn every_state_is_drawn_once_with_its_mark() {
        let m = Machine::parse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},
                "B":{"Type":"Task","Resource":"x.waitForTaskToken","End":true}}}"#,
        )
        .expect("parses");
        let trace = Trace::default();
        let svg = Drawing {
            id: "t",
            title: "T",
            machine: &m,
            trace: &trace,
        }
        .svg();
        assert_eq!(svg.matches(r#"data-state="A""#).count(), 1);
        assert_eq!(svg.matches(r#"data-state="B""#).count(), 1);
        assert!(
            svg.contains(r#"class="state task untouched asks""#),
            "{svg}"
        );
        assert!(svg.contains(r#"<desc id="t-desc">2 states.</desc>"#));
    }
}

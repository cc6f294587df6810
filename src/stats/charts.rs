//! Charts drawn by Perezvon itself as inline SVG (no script, no external request): stacked bars
//! (calls by hour, callback backlog by day, forecast against plan) and bars of a rate (service
//! level by day, 0–100 %). Pure: data in, markup out; every label is escaped. Each chart carries
//! a `<title>` and an `aria-label`, and the page shows the same figures in a table beside it.

use std::fmt::Write;

/// One series of a chart: its name, its CSS class (colour) and one value per category.
pub struct Series<'a> {
    pub name: &'a str,
    pub class: &'a str,
    pub values: Vec<f64>,
}

const W: f64 = 720.0;
const H: f64 = 220.0;
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A "nice" axis maximum at or above `v` (1, 2, 5 × 10ⁿ).
fn nice(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|m| *m >= v)
        .unwrap_or(10.0 * p)
}

fn frame(title: &str, labels: &[String], max: f64, percent: bool, body: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{t}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
        t = esc(title)
    );
    let plot_h = H - BOTTOM - TOP;
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 4.0;
        let label = if percent {
            format!("{:.0}%", v * 100.0)
        } else {
            format!("{v}")
        };
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{W}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"axis\" x=\"{x:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
            x = LEFT - 4.0,
            ty = y + 4.0
        );
    }
    let step = (W - LEFT) / labels.len().max(1) as f64;
    // Every n-th label, so that labels (about 6 px per character) never overlap.
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
    let every = ((widest * 6.0 + 10.0) / step).ceil().max(1.0) as usize;
    for (i, l) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            s,
            "<text class=\"axis\" x=\"{x:.1}\" y=\"{y}\" text-anchor=\"middle\">{l}</text>",
            x = LEFT + step * (i as f64 + 0.5),
            y = H - 8.0,
            l = esc(l)
        );
    }
    s.push_str(body);
    s.push_str("</svg>");
    s
}

/// Stacked bars: one bar per label, the series stacked bottom up.
pub fn stacked_bars(title: &str, labels: &[String], series: &[Series<'_>]) -> String {
    bars_and_line(title, labels, series, None)
}

/// Stacked bars with a line over them (e.g. operators needed, and the line of those planned).
pub fn bars_and_line(
    title: &str,
    labels: &[String],
    series: &[Series<'_>],
    line: Option<&Series<'_>>,
) -> String {
    let totals: Vec<f64> = (0..labels.len())
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .chain(line.iter().flat_map(|l| l.values.iter().copied()))
        .collect();
    // Counts: at least 4 on the axis, so its quarter ticks are whole numbers.
    let max = nice(totals.iter().copied().fold(0.0, f64::max)).max(4.0);
    let plot_h = H - BOTTOM - TOP;
    let step = (W - LEFT) / labels.len().max(1) as f64;
    let mut body = String::new();
    for (i, label) in labels.iter().enumerate() {
        let mut base = 0.0;
        for s in series {
            let v = s.values.get(i).copied().unwrap_or(0.0);
            if v <= 0.0 {
                continue;
            }
            let h = plot_h * v / max;
            let y = TOP + plot_h - plot_h * base / max - h;
            let _ = write!(
                body,
                "<rect class=\"{c}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\">\
                 <title>{l}: {n} — {v}</title></rect>",
                c = esc(s.class),
                x = LEFT + step * i as f64 + step * 0.15,
                w = step * 0.7,
                l = esc(label),
                n = esc(s.name),
            );
            base += v;
        }
    }
    if let Some(l) = line {
        let points: Vec<String> = l
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let x = LEFT + step * (i as f64 + 0.5);
                format!("{x:.1},{:.1}", TOP + plot_h - plot_h * v / max)
            })
            .collect();
        let _ = write!(
            body,
            "<polyline class=\"{c}\" fill=\"none\" points=\"{p}\"><title>{n}</title></polyline>",
            c = esc(l.class),
            p = points.join(" "),
            n = esc(l.name)
        );
    }
    frame(title, labels, max, false, &body)
}

/// Bars of a rate in 0..=1 (a missing value draws nothing).
pub fn rate_bars(title: &str, labels: &[String], values: &[Option<f64>], class: &str) -> String {
    let plot_h = H - BOTTOM - TOP;
    let step = (W - LEFT) / labels.len().max(1) as f64;
    let mut body = String::new();
    for (i, (label, v)) in labels.iter().zip(values).enumerate() {
        let Some(v) = v.map(|v| v.clamp(0.0, 1.0)) else {
            continue;
        };
        let h = plot_h * v;
        let _ = write!(
            body,
            "<rect class=\"{c}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\">\
             <title>{l}: {p:.1}%</title></rect>",
            c = esc(class),
            x = LEFT + step * i as f64 + step * 0.15,
            y = TOP + plot_h - h,
            w = step * 0.7,
            l = esc(label),
            p = v * 100.0
        );
    }
    frame(title, labels, 1.0, true, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_a_nice_maximum_and_escape_labels() {
        let labels = vec!["9".to_owned(), "<10>".to_owned()];
        let svg = stacked_bars(
            "Звонки по часам",
            &labels,
            &[
                Series {
                    name: "приняты",
                    class: "ok",
                    values: vec![3.0, 1.0],
                },
                Series {
                    name: "сброшены",
                    class: "bad",
                    values: vec![1.0, 0.0],
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("&lt;10&gt;") && !svg.contains("<10>"));
        // Max total 4 → axis to 5; the first bar's two parts: 3/5 and 1/5 of the plot height.
        // (Labels: 2 of them, 340 px each: both shown.)
        let plot_h = H - BOTTOM - TOP;
        assert!(svg.contains(&format!("height=\"{:.1}\"", plot_h * 3.0 / 5.0)));
        assert!(svg.contains(&format!("height=\"{:.1}\"", plot_h / 5.0)));
        assert_eq!(svg.matches("<rect").count(), 3);
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(7.0), 10.0);
        assert_eq!(nice(120.0), 200.0);
    }

    #[test]
    fn a_line_over_the_bars_raises_the_axis() {
        let labels: Vec<String> = (9..12).map(|h| h.to_string()).collect();
        let bars = Series {
            name: "нужно",
            class: "a",
            values: vec![1.0, 2.0, 3.0],
        };
        let line = Series {
            name: "план",
            class: "p",
            values: vec![6.0, 6.0, 6.0],
        };
        let svg = bars_and_line("t", &labels, &[bars], Some(&line));
        // The line's 6 sets the axis to 10: it sits at 6/10 of the plot height from the bottom.
        let plot_h = H - BOTTOM - TOP;
        let y = TOP + plot_h - plot_h * 0.6;
        assert!(svg.contains("<polyline class=\"p\""));
        assert_eq!(svg.matches(&format!(",{y:.1}")).count(), 3);
    }

    #[test]
    fn rate_bars_skip_missing_values() {
        let labels = vec!["1".to_owned(), "2".to_owned()];
        let svg = rate_bars("SL", &labels, &[Some(0.5), None], "ok");
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(svg.contains("50.0%"));
    }
}

//! The overview's charts of the metrics' daily series: line charts drawn by `plotters` into SVG
//! on the server and put inline in the page (no script, nothing fetched). Each chart comes with
//! a one-sentence summary for screen readers and its numbers as a table; the legend and the
//! titles are HTML, in the owner's language. The drawing itself stays left to right in an
//! Arabic page too: its time axis reads that way, and SVG text anchors would flip under RTL.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use plotters::prelude::*;
use serde::Serialize;

use crate::domain::money::{Currency, Money};
use crate::error::AppError;
use crate::services::retention::metrics_report::SeriesDay;

/// The drawing's size in SVG units; the page scales it to its width (a phone's too).
const WIDTH: u32 = 640;
const HEIGHT: u32 = 260;
const INK: RGBColor = RGBColor(0x1d, 0x1d, 0x1f);
const GRID: RGBColor = RGBColor(0xdc, 0xdc, 0xe4);
/// The page's accent, and a second colour that keeps 4.5:1 against white too; the second line
/// is also dashed, so the two never differ by colour alone.
const FIRST: RGBColor = RGBColor(0x4a, 0x22, 0xd6);
const SECOND: RGBColor = RGBColor(0xb4, 0x3c, 0x00);

/// One line of a chart: its name (a text key) and one value per day.
struct Line {
    name: &'static str,
    values: Vec<i64>,
}

/// What the template needs to show one chart.
#[derive(Debug, Serialize)]
pub struct Chart {
    pub key: &'static str,
    pub title: String,
    /// The drawing's viewBox.
    pub width: u32,
    pub height: u32,
    /// The names of the lines, in drawing order (the first solid, the second dashed).
    pub legend: Vec<&'static str>,
    /// For `aria-label`: what the chart shows, in one sentence.
    pub summary: String,
    /// The inside of the inline `<svg>`; `None` when every value is zero (the page says so).
    pub svg: Option<String>,
    pub empty: &'static str,
    /// The numbers, one row per day: the date and one formatted value per line.
    pub rows: Vec<(String, Vec<String>)>,
}

/// How a chart's values read: counts as they are, money in the shop's currency.
#[derive(Clone, Copy)]
enum Unit<'a> {
    Count,
    Money(&'a Currency),
}

impl Unit<'_> {
    fn show(self, value: i64) -> String {
        match self {
            Unit::Count => value.to_string(),
            Unit::Money(c) => Money::new(value).to_decimal_string(c.exponent),
        }
    }

    /// An axis label: whole units of money (cents on an axis are noise).
    fn tick(self, value: i64) -> String {
        match self {
            Unit::Count => value.to_string(),
            Unit::Money(c) => (value / c.minor_per_unit().max(1)).to_string(),
        }
    }
}

/// The four charts of the overview, from the report's series.
pub fn overview_charts(
    series: &[SeriesDay],
    currency: &Currency,
    t: &BTreeMap<&'static str, &'static str>,
) -> Result<Vec<Chart>, AppError> {
    let days: Vec<NaiveDate> = series.iter().map(|d| d.date).collect();
    let pick = |f: fn(&SeriesDay) -> i64| series.iter().map(f).collect::<Vec<_>>();
    let text = |key: &'static str| t.get(key).copied().unwrap_or(key);
    let specs: [(&'static str, Unit, Vec<Line>, &'static str); 4] = [
        (
            "orders",
            Unit::Count,
            vec![Line {
                name: "chart_orders",
                values: pick(|d| d.orders),
            }],
            "chart_no_orders",
        ),
        (
            "revenue",
            Unit::Money(currency),
            vec![Line {
                name: "chart_revenue",
                values: pick(|d| d.revenue_minor),
            }],
            "chart_no_orders",
        ),
        (
            "new_customers",
            Unit::Count,
            vec![Line {
                name: "chart_new_customers",
                values: pick(|d| d.new_customers),
            }],
            "chart_no_customers",
        ),
        (
            "points",
            Unit::Count,
            vec![
                Line {
                    name: "chart_points_earned",
                    values: pick(|d| d.points_earned),
                },
                Line {
                    name: "chart_points_spent",
                    values: pick(|d| d.points_spent),
                },
            ],
            "chart_no_points",
        ),
    ];
    specs
        .into_iter()
        .map(|(key, unit, lines, empty)| {
            let all_zero = lines.iter().all(|l| l.values.iter().all(|v| *v == 0));
            let name = if lines.len() == 1 {
                lines.first().map_or(key, |l| text(l.name))
            } else {
                text("chart_points")
            };
            let title = match unit {
                Unit::Money(c) => format!("{name} ({})", c.code),
                Unit::Count => name.to_owned(),
            };
            let summary = summary(&title, &days, &lines, unit, &text);
            Ok(Chart {
                key,
                title,
                width: WIDTH,
                height: HEIGHT,
                legend: lines.iter().map(|l| text(l.name)).collect(),
                summary,
                svg: if all_zero {
                    None
                } else {
                    Some(draw(&days, &lines, unit)?)
                },
                empty: text(empty),
                rows: days
                    .iter()
                    .enumerate()
                    .map(|(i, day)| {
                        let values = lines
                            .iter()
                            .map(|l| unit.show(l.values.get(i).copied().unwrap_or(0)))
                            .collect();
                        (day.to_string(), values)
                    })
                    .collect(),
            })
        })
        .collect()
}

/// "Orders per day, 2026-11-01 – 2026-11-30: total 42, highest 5 (2026-11-20)."
fn summary(
    title: &str,
    days: &[NaiveDate],
    lines: &[Line],
    unit: Unit,
    text: &dyn Fn(&'static str) -> &'static str,
) -> String {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return title.to_owned();
    };
    let parts: Vec<String> = lines
        .iter()
        .map(|line| {
            let total = line.values.iter().fold(0i64, |a, v| a.saturating_add(*v));
            let peak = line
                .values
                .iter()
                .enumerate()
                .max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i)));
            // A single line is the chart's title already; two are told apart by name.
            let mut part = if lines.len() > 1 {
                format!("{}: ", text(line.name))
            } else {
                String::new()
            };
            part.push_str(&format!("{} {}", text("chart_total"), unit.show(total)));
            if let Some((i, v)) = peak.filter(|(_, v)| **v > 0) {
                if let Some(day) = days.get(i) {
                    part.push_str(&format!(
                        ", {} {} ({day})",
                        text("chart_peak"),
                        unit.show(*v)
                    ));
                }
            }
            part
        })
        .collect();
    format!("{title}, {first} – {last}: {}.", parts.join("; "))
}

/// The SVG of `lines` over `days`, sized by its viewBox to fill the width it is given.
fn draw(days: &[NaiveDate], lines: &[Line], unit: Unit) -> Result<String, AppError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(AppError::internal)?;
        let max = lines
            .iter()
            .flat_map(|l| l.values.iter().copied())
            .max()
            .unwrap_or(0)
            .max(1);
        // Headroom above the highest point; integer coordinates keep the ticks on whole numbers.
        let top = max.saturating_add(max / 10).saturating_add(1);
        let last = days.len().saturating_sub(1).max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0..last, 0..top)
            .map_err(AppError::internal)?;
        let date_label = |i: &usize| {
            days.get(*i)
                .map(|d| d.format("%m-%d").to_string())
                .unwrap_or_default()
        };
        let value_label = |v: &i64| unit.tick(*v);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&date_label)
            .y_label_formatter(&value_label)
            .label_style(("sans-serif", 22).into_font().color(&INK))
            .axis_style(INK)
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .draw()
            .map_err(AppError::internal)?;
        for (n, line) in lines.iter().enumerate() {
            let points = line.values.iter().enumerate().map(|(i, v)| (i, *v));
            if n == 0 {
                chart
                    .draw_series(LineSeries::new(points, FIRST.stroke_width(3)))
                    .map_err(AppError::internal)?;
            } else {
                chart
                    .draw_series(DashedLineSeries::new(points, 8, 5, SECOND.stroke_width(3)))
                    .map_err(AppError::internal)?;
            }
        }
        root.present().map_err(AppError::internal)?;
    }
    Ok(inner(&svg))
}

/// What is inside plotters' `<svg>` element. plotters writes a fixed `width`/`height`; the page
/// writes the element itself, with only the viewBox (so the drawing is as wide as its column
/// on any screen), `role="img"` and the summary as its label, escaped by the template.
fn inner(svg: &str) -> String {
    let body = svg.split_once('>').map_or(svg, |(_, rest)| rest).trim_end();
    body.strip_suffix("</svg>").unwrap_or(body).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u32, orders: i64, revenue: i64) -> SeriesDay {
        SeriesDay {
            date: NaiveDate::from_ymd_opt(2026, 11, n).unwrap(),
            orders,
            revenue_minor: revenue,
            new_customers: 0,
            points_earned: 0,
            points_spent: 0,
        }
    }

    #[test]
    fn charts_are_inline_scalable_svg_with_summaries_and_tables() {
        let t = crate::http::app::texts::texts("en");
        let usd = Currency::parse("USD").unwrap();
        let series = [day(1, 1, 1_250), day(2, 0, 0), day(3, 3, 9_000)];
        let charts = overview_charts(&series, &usd, &t).unwrap();
        assert_eq!(charts.len(), 4);
        let orders = &charts[0];
        let svg = orders.svg.as_deref().unwrap();
        assert!(!svg.contains("<svg") && !svg.contains("</svg>"), "{svg}");
        assert!(svg.contains("<polyline") || svg.contains("<path"), "{svg}");
        assert!(svg.contains("11-03"), "date ticks: {svg}");
        assert_eq!((orders.width, orders.height), (640, 260));
        assert_eq!(
            orders.summary,
            "Orders per day, 2026-11-01 – 2026-11-03: total 4, highest 3 (2026-11-03)."
        );
        assert_eq!(
            charts[1].rows[0],
            ("2026-11-01".into(), vec!["12.50".into()])
        );
        // Nothing happened to points: no drawing, a sentence instead.
        assert!(charts[3].svg.is_none());
        assert_eq!(charts[3].legend.len(), 2);
    }

    #[test]
    fn an_empty_period_draws_nothing() {
        let t = crate::http::app::texts::texts("ar");
        let usd = Currency::parse("USD").unwrap();
        let charts = overview_charts(&[day(1, 0, 0)], &usd, &t).unwrap();
        assert!(charts.iter().all(|c| c.svg.is_none()));
        assert!(!charts[0].empty.is_empty());
    }
}

//! The sending policy, across every marketing kind: nothing in quiet hours (the shop's clock),
//! at most `max_per_week` per customer in any 7 days (the rest wait for one digest), and no
//! more marketing to someone who left `sunset_after_unopened` of them unopened in a row, until
//! they order again. Transactional mail (a code the customer just asked for) is exempt.

use chrono::{Duration, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

use super::{Kind, SendingPolicy};

/// What the outbox knows of a customer's recent marketing mail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    /// Marketing mails sent in the 7 days before now (digests included).
    pub sent_last_week: u32,
    /// The oldest of them: a slot frees 7 days after it.
    pub oldest_in_week: Option<NaiveDateTime>,
    /// Marketing mails sent since the customer last opened one or ordered.
    pub unopened_in_a_row: u32,
}

/// What to do with a message that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Quiet hours: try again at this instant (UTC), when they end.
    WaitUntil(NaiveDateTime),
    /// Over the weekly cap: hold it for the digest, which may go at this instant (UTC).
    Cap {
        digest_at: NaiveDateTime,
    },
    /// The customer stopped opening marketing mail: send nothing until they order again.
    Sunset,
}

/// Decides a due message of `kind` at `now` (UTC) for a shop in `zone`. `tracking`: whether
/// opens are recorded (without them, nobody can be called a never-opener).
pub fn decide(
    kind: Kind,
    policy: &SendingPolicy,
    tracking: bool,
    zone: Tz,
    now: NaiveDateTime,
    history: &History,
) -> Decision {
    if kind.is_transactional() {
        return Decision::Send;
    }
    let sunset = policy
        .sunset_after_unopened
        .is_some_and(|n| tracking && history.unopened_in_a_row >= n);
    if sunset {
        return Decision::Sunset;
    }
    if let Some((start, end)) = policy.quiet_hours.as_ref().and_then(|q| q.times()) {
        if let Some(until) = quiet_until(zone, now, start, end) {
            return Decision::WaitUntil(until);
        }
    }
    // The digest is the cap's own overflow: it goes once the window has room or not.
    if kind != Kind::Digest && history.sent_last_week >= policy.max_per_week {
        let frees = history
            .oldest_in_week
            .map_or(now, |oldest| oldest + Duration::days(7))
            .max(now);
        if kind.waits_for_room() {
            return Decision::WaitUntil(frees);
        }
        return Decision::Cap { digest_at: frees };
    }
    Decision::Send
}

/// When quiet hours `start..end` (shop clock; wrapping midnight when `start > end`) hold `now`,
/// the UTC instant they end.
fn quiet_until(
    zone: Tz,
    now: NaiveDateTime,
    start: NaiveTime,
    end: NaiveTime,
) -> Option<NaiveDateTime> {
    let local = zone.from_utc_datetime(&now).naive_local();
    let t = local.time();
    let quiet = if start < end {
        start <= t && t < end
    } else {
        t >= start || t < end
    };
    if !quiet {
        return None;
    }
    let day = if t < end {
        local.date()
    } else {
        local.date().succ_opt()?
    };
    let wake = day.and_time(end);
    // A wake-up time skipped by a DST jump is taken an hour later; an ambiguous one at its
    // first occurrence.
    let instant = zone.from_local_datetime(&wake).earliest().or_else(|| {
        zone.from_local_datetime(&(wake + Duration::hours(1)))
            .earliest()
    })?;
    Some(instant.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mail::QuietHours;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn policy(start: &str, end: &str) -> SendingPolicy {
        SendingPolicy {
            max_per_week: 3,
            quiet_hours: Some(QuietHours {
                start: start.into(),
                end: end.into(),
            }),
            sunset_after_unopened: Some(8),
        }
    }

    fn quiet(zone: &str, utc: &str, start: &str, end: &str) -> Decision {
        decide(
            Kind::TierUp,
            &policy(start, end),
            true,
            zone.parse().unwrap(),
            at(utc),
            &History::default(),
        )
    }

    #[test]
    fn quiet_hours_span_midnight_on_the_shops_clock() {
        // Berlin is UTC+1 in winter: 22:30 there is 21:30 UTC; quiet until 08:00 = 07:00 UTC.
        assert_eq!(
            quiet("Europe/Berlin", "2026-12-01 21:30", "21:00", "08:00"),
            Decision::WaitUntil(at("2026-12-02 07:00"))
        );
        // 03:00 there, after midnight: the same morning.
        assert_eq!(
            quiet("Europe/Berlin", "2026-12-02 02:00", "21:00", "08:00"),
            Decision::WaitUntil(at("2026-12-02 07:00"))
        );
        assert_eq!(
            quiet("Europe/Berlin", "2026-12-02 07:00", "21:00", "08:00"),
            Decision::Send
        );
        assert_eq!(
            quiet("Europe/Berlin", "2026-12-01 19:59", "21:00", "08:00"),
            Decision::Send
        );
        // Quiet hours inside one day.
        assert_eq!(
            quiet("UTC", "2026-12-01 13:00", "12:00", "14:00"),
            Decision::WaitUntil(at("2026-12-01 14:00"))
        );
        assert_eq!(
            quiet("UTC", "2026-12-01 14:00", "12:00", "14:00"),
            Decision::Send
        );
    }

    #[test]
    fn quiet_hours_follow_daylight_saving_changes() {
        // New York springs forward on 8 March 2026 at 02:00: quiet until 02:30, a time that
        // does not exist that night, ends at 03:30 EDT (07:30 UTC).
        assert_eq!(
            quiet("America/New_York", "2026-03-08 06:00", "21:00", "02:30"),
            Decision::WaitUntil(at("2026-03-08 07:30"))
        );
        // The night before the change the wake-up is 08:00 EST (13:00 UTC); after it, 08:00 EDT.
        assert_eq!(
            quiet("America/New_York", "2026-03-07 03:00", "21:00", "08:00"),
            Decision::WaitUntil(at("2026-03-07 13:00"))
        );
        assert_eq!(
            quiet("America/New_York", "2026-03-09 03:00", "21:00", "08:00"),
            Decision::WaitUntil(at("2026-03-09 12:00"))
        );
        // Falling back on 1 November 2026: 01:30 happens twice; the first one ends the quiet.
        assert_eq!(
            quiet("America/New_York", "2026-11-01 04:00", "21:00", "01:30"),
            Decision::WaitUntil(at("2026-11-01 05:30"))
        );
    }

    #[test]
    fn the_weekly_cap_holds_the_rest_for_a_digest_when_a_slot_frees() {
        let p = SendingPolicy {
            quiet_hours: None,
            ..policy("21:00", "08:00")
        };
        let zone = chrono_tz::UTC;
        let full = History {
            sent_last_week: 3,
            oldest_in_week: Some(at("2026-12-01 10:00")),
            unopened_in_a_row: 0,
        };
        let now = at("2026-12-03 12:00");
        assert_eq!(
            decide(Kind::PointsEarned, &p, true, zone, now, &full),
            Decision::Cap {
                digest_at: at("2026-12-08 10:00")
            }
        );
        assert_eq!(
            decide(Kind::Digest, &p, true, zone, now, &full),
            Decision::Send
        );
        // A win-back code or a survey's links cannot be told in a digest: they wait for room.
        for kind in [Kind::WinBack, Kind::NpsSurvey] {
            assert_eq!(
                decide(kind, &p, true, zone, now, &full),
                Decision::WaitUntil(at("2026-12-08 10:00"))
            );
        }
        // Transactional mail is never capped, quiet or sunset.
        let sunk = History {
            unopened_in_a_row: 50,
            ..full
        };
        assert_eq!(
            decide(
                Kind::RewardIssued,
                &policy("00:00", "23:59"),
                true,
                zone,
                now,
                &sunk
            ),
            Decision::Send
        );
        let room = History {
            sent_last_week: 2,
            ..full
        };
        assert_eq!(
            decide(Kind::PointsEarned, &p, true, zone, now, &room),
            Decision::Send
        );
    }

    #[test]
    fn never_openers_are_sunset_only_while_opens_are_tracked() {
        let p = policy("21:00", "08:00");
        let h = History {
            unopened_in_a_row: 8,
            ..History::default()
        };
        let noon = at("2026-12-03 12:00");
        assert_eq!(
            decide(Kind::WinBack, &p, true, chrono_tz::UTC, noon, &h),
            Decision::Sunset
        );
        assert_eq!(
            decide(Kind::WinBack, &p, false, chrono_tz::UTC, noon, &h),
            Decision::Send
        );
        let seven = History {
            unopened_in_a_row: 7,
            ..h
        };
        assert_eq!(
            decide(Kind::WinBack, &p, true, chrono_tz::UTC, noon, &seven),
            Decision::Send
        );
        let off = SendingPolicy {
            sunset_after_unopened: None,
            ..p
        };
        assert_eq!(
            decide(Kind::WinBack, &off, true, chrono_tz::UTC, noon, &h),
            Decision::Send
        );
    }
}

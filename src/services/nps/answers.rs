//! Recording answers: from a survey link (one response per token) and from the widget (one per
//! member per 90 days).

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::{Member, NpsResponse, NpsSurvey, Shop};
use crate::db::schema::{members, nps_responses};
use crate::db::{new_id, write_transaction, DbConnection};
use crate::domain::retention::{may_answer, NpsScore, SURVEY_INTERVAL_DAYS};
use crate::domain::widget::Locale;
use crate::services::program::Program;

use super::{local_day, COMMENT_MAX_CHARS};

/// How long after the first click on a survey link another click changes the score.
const CHANGE_WINDOW: Duration = Duration::hours(24);

/// Why an answer was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum NpsError {
    #[error("this survey link is not valid")]
    UnknownToken,
    #[error("score must be a whole number from 0 to 10")]
    BadScore,
    #[error("the comment is longer than {COMMENT_MAX_CHARS} characters")]
    CommentTooLong,
    #[error("pick a score before leaving a comment")]
    NotAnswered,
    #[error("log in as a member to answer")]
    NotAMember,
    #[error("you answered on {answered_on}; you can answer again from {again_on}")]
    AlreadyAnswered {
        answered_on: NaiveDate,
        again_on: NaiveDate,
    },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// What the survey page shows after an answer.
#[derive(Debug, Clone)]
pub struct LinkAnswer {
    pub response: NpsResponse,
    pub locale: Locale,
    pub shop_name: String,
}

/// A score as sent: a whole number 0–10.
pub fn parse_score(raw: Option<&str>) -> Result<NpsScore, NpsError> {
    raw.and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| NpsScore::new(s).ok())
        .ok_or(NpsError::BadScore)
}

/// A comment as kept: trimmed, `None` when empty.
fn clean_comment(raw: Option<&str>) -> Result<Option<String>, NpsError> {
    let text = raw.map(str::trim).filter(|c| !c.is_empty());
    match text {
        Some(c) if c.chars().count() > COMMENT_MAX_CHARS => Err(NpsError::CommentTooLong),
        other => Ok(other.map(str::to_owned)),
    }
}

/// Tokens are 64 hex digits; anything else is refused before the database is asked (and
/// before a write transaction takes SQLite's one writer slot).
fn well_formed(token: &str) -> Result<(), NpsError> {
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(NpsError::UnknownToken)
    }
}

/// The survey of a token and its shop and member.
fn survey_of(conn: &mut DbConnection, token: &str) -> Result<(NpsSurvey, Shop, Member), NpsError> {
    let survey = NpsSurvey::find_by_token(conn, token)?.ok_or(NpsError::UnknownToken)?;
    let shop = Shop::find(conn, &survey.shop_id)?;
    let member = Member::find(conn, &shop.id, &survey.member_id)?;
    Ok((survey, shop, member))
}

fn link_answer(shop: &Shop, member: &Member, response: NpsResponse) -> LinkAnswer {
    let program = Program::of(shop);
    LinkAnswer {
        response,
        locale: Locale::negotiate(member.locale.as_deref(), program.widget.default_locale),
        shop_name: shop
            .domain
            .trim_end_matches(".myshopify.com")
            .replace('-', " "),
    }
}

/// `GET /nps/{token}?score=N`: records the survey's response, or (within 24 hours of the first
/// click) changes its score. The token is checked first, then the score; a refused request
/// stores nothing.
pub fn answer_by_link(
    conn: &mut DbConnection,
    token: &str,
    score: Option<&str>,
    now: NaiveDateTime,
) -> Result<LinkAnswer, NpsError> {
    well_formed(token)?;
    write_transaction(conn, |c| {
        let (survey, shop, member) = survey_of(c, token)?;
        let score = i32::from(parse_score(score)?.value());
        let response = match NpsResponse::find_by_survey(c, &shop.id, &survey.id)? {
            Some(mut existing) => {
                if existing.score != score && now - existing.created_at < CHANGE_WINDOW {
                    diesel::update(nps_responses::table.find(&existing.id))
                        .set((
                            nps_responses::score.eq(score),
                            nps_responses::updated_at.eq(now),
                        ))
                        .execute(c)?;
                    existing.score = score;
                    existing.updated_at = now;
                }
                existing
            }
            None => {
                let response = NpsResponse {
                    id: new_id(),
                    shop_id: shop.id.clone(),
                    member_id: Some(member.id.clone()),
                    survey_id: Some(survey.id.clone()),
                    score,
                    comment: None,
                    channel: "email".into(),
                    answered_on: local_day(&shop, now),
                    created_at: now,
                    updated_at: now,
                };
                if response.insert_once(c)? {
                    response
                } else {
                    // A concurrent click stored the answer first: that one counts.
                    NpsResponse::find_by_survey(c, &shop.id, &survey.id)?
                        .ok_or(NpsError::Database(diesel::result::Error::NotFound))?
                }
            }
        };
        Ok(link_answer(&shop, &member, response))
    })
}

/// `POST /nps/{token}` with a comment: sets the comment of the survey's response.
pub fn comment_by_link(
    conn: &mut DbConnection,
    token: &str,
    comment: Option<&str>,
    now: NaiveDateTime,
) -> Result<LinkAnswer, NpsError> {
    well_formed(token)?;
    write_transaction(conn, |c| {
        let (survey, shop, member) = survey_of(c, token)?;
        let comment = clean_comment(comment)?;
        let mut response =
            NpsResponse::find_by_survey(c, &shop.id, &survey.id)?.ok_or(NpsError::NotAnswered)?;
        diesel::update(nps_responses::table.find(&response.id))
            .set((
                nps_responses::comment.eq(&comment),
                nps_responses::updated_at.eq(now),
            ))
            .execute(c)?;
        response.comment = comment;
        Ok(link_answer(&shop, &member, response))
    })
}

/// `POST {base}/nps` for the logged-in customer `customer_id`: one answer per 90 days.
pub fn answer_in_widget(
    conn: &mut DbConnection,
    shop: &Shop,
    customer_id: &str,
    score: Option<i64>,
    comment: Option<&str>,
    now: NaiveDateTime,
) -> Result<NpsResponse, NpsError> {
    let score = score
        .and_then(|s| NpsScore::new(s).ok())
        .ok_or(NpsError::BadScore)?;
    let comment = clean_comment(comment)?;
    write_transaction(conn, |c| {
        let member =
            Member::find_by_customer_id(c, &shop.id, customer_id)?.ok_or(NpsError::NotAMember)?;
        // Two answers sent at once must not both pass the 90-day check: hold the member's row
        // (SQLite's write transaction already holds the whole database).
        if let DbConnection::Postgresql(pg) = c {
            members::table
                .filter(members::shop_id.eq(&shop.id))
                .filter(members::id.eq(&member.id))
                .select(members::id)
                .for_update()
                .first::<String>(pg)?;
        }
        let today = local_day(shop, now);
        let last = NpsResponse::last_answered_on(c, &shop.id, &member.id)?;
        if let Some(answered_on) = last.filter(|_| !may_answer(last, today)) {
            return Err(NpsError::AlreadyAnswered {
                answered_on,
                again_on: answered_on + Duration::days(SURVEY_INTERVAL_DAYS),
            });
        }
        let response = NpsResponse {
            id: new_id(),
            shop_id: shop.id.clone(),
            member_id: Some(member.id.clone()),
            survey_id: None,
            score: i32::from(score.value()),
            comment,
            channel: "widget".into(),
            answered_on: today,
            created_at: now,
            updated_at: now,
        };
        diesel::insert_into(nps_responses::table)
            .values(response.clone())
            .execute(c)?;
        Ok(response)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_whole_numbers_from_0_to_10() {
        assert_eq!(parse_score(Some("0")).unwrap().value(), 0);
        assert_eq!(parse_score(Some("10")).unwrap().value(), 10);
        for bad in [
            None,
            Some(""),
            Some("11"),
            Some("-1"),
            Some("7.5"),
            Some("ten"),
        ] {
            assert!(
                matches!(parse_score(bad), Err(NpsError::BadScore)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn comments_are_trimmed_and_capped() {
        assert_eq!(clean_comment(Some("  ")).unwrap(), None);
        assert_eq!(clean_comment(Some(" ok ")).unwrap().as_deref(), Some("ok"));
        let long = "é".repeat(COMMENT_MAX_CHARS + 1);
        assert!(matches!(
            clean_comment(Some(&long)),
            Err(NpsError::CommentTooLong)
        ));
        assert!(clean_comment(Some(&long[2..])).unwrap().is_some());
    }
}

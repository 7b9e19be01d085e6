//! The one portable schema for both backends. Written by hand rather than by
//! `diesel print-schema` because the two engines report types differently; only portable types
//! are used (Text, BigInt, Integer, Bool, Timestamp, Date, Double). The round-trip test in
//! `tests/api/backends.rs` inserts and reads every table on both engines so this cannot drift
//! from `migrations/`.

diesel::table! {
    app_settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shops (id) {
        id -> Text,
        platform -> Text,
        domain -> Text,
        access_token_enc -> Nullable<Text>,
        webhook_secret_enc -> Nullable<Text>,
        api_key_hash -> Nullable<Text>,
        api_base -> Nullable<Text>,
        currency -> Text,
        timezone -> Text,
        locale -> Text,
        install_state -> Text,
        program -> Text,
        is_demo -> Bool,
        installed_at -> Timestamp,
        uninstalled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reconciled_until -> Nullable<Timestamp>,
        award_history -> Bool,
        consumer_key_enc -> Nullable<Text>,
        consumer_secret_enc -> Nullable<Text>,
        dkim_domain -> Nullable<Text>,
        dkim_selector -> Nullable<Text>,
        dkim_private_key_enc -> Nullable<Text>,
        facts_backfilled_at -> Nullable<Timestamp>,
        metrics_built_at -> Nullable<Timestamp>,
        refresh_token_enc -> Nullable<Text>,
        access_token_expires_at -> Nullable<Timestamp>,
        refresh_token_expires_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    members (id) {
        id -> Text,
        shop_id -> Text,
        platform_customer_id -> Nullable<Text>,
        email -> Nullable<Text>,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        birthday -> Nullable<Date>,
        accepts_marketing -> Bool,
        points_balance -> BigInt,
        pending_points -> BigInt,
        lifetime_points -> BigInt,
        tier -> Nullable<Text>,
        referral_code -> Nullable<Text>,
        merged_into -> Nullable<Text>,
        redacted_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        profile_updated_at -> Nullable<Timestamp>,
        email_verified -> Bool,
        tier_held_by -> Text,
        tier_review_at -> Nullable<Date>,
        locale -> Nullable<Text>,
    }
}

diesel::table! {
    ledger_entries (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        delta -> BigInt,
        kind -> Text,
        status -> Text,
        reason -> Nullable<Text>,
        source -> Text,
        source_id -> Text,
        action -> Text,
        idempotency_key -> Text,
        detail -> Nullable<Text>,
        confirms_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        shop_id -> Text,
        platform_order_id -> Text,
        member_id -> Nullable<Text>,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        financial_status -> Text,
        cancelled -> Bool,
        currency -> Text,
        subtotal_minor -> BigInt,
        total_minor -> BigInt,
        refunded_minor -> BigInt,
        snapshot -> Text,
        placed_at -> Timestamp,
        platform_updated_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refunds (id) {
        id -> Text,
        shop_id -> Text,
        platform_refund_id -> Text,
        platform_order_id -> Text,
        facts -> Text,
        amount_minor -> BigInt,
        refunded_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    product_collections (shop_id, product_id, collection_id) {
        shop_id -> Text,
        product_id -> Text,
        collection_id -> Text,
        synced_at -> Timestamp,
    }
}

diesel::table! {
    redemptions (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        reward_id -> Text,
        reward -> Text,
        points -> BigInt,
        code -> Text,
        status -> Text,
        platform_discount_id -> Nullable<Text>,
        error -> Nullable<Text>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    point_reminders (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        points -> BigInt,
        expires_at -> Timestamp,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inbox_events (id) {
        id -> Text,
        shop_id -> Text,
        platform -> Text,
        topic -> Text,
        delivery_id -> Text,
        event_id -> Nullable<Text>,
        api_version -> Nullable<Text>,
        triggered_at -> Nullable<Timestamp>,
        payload -> Text,
        status -> Text,
        error -> Nullable<Text>,
        attempts -> Integer,
        received_at -> Timestamp,
        processed_at -> Nullable<Timestamp>,
        customer_id -> Nullable<Text>,
        order_id -> Nullable<Text>,
        body_erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        shop_id -> Text,
        kind -> Text,
        payload -> Text,
        dedupe_key -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        max_attempts -> Integer,
        run_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tier_activity (shop_id, source) {
        shop_id -> Text,
        source -> Text,
        member_id -> Text,
        occurred_on -> Date,
        points -> BigInt,
        spent_minor -> BigInt,
        orders -> BigInt,
        counts_from -> Timestamp,
        counted -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tier_grants (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        membership_id -> Text,
        tier -> Text,
        platform_order_id -> Text,
        starts_on -> Date,
        ends_on -> Date,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tier_events (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        from_tier -> Nullable<Text>,
        to_tier -> Nullable<Text>,
        reason -> Text,
        review_on -> Nullable<Date>,
        at -> Timestamp,
    }
}

diesel::table! {
    entry_rewards (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        tier -> Text,
        issued_at -> Timestamp,
        redemption_id -> Text,
    }
}

diesel::table! {
    fulfilments (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        ledger_key -> Text,
        reward_id -> Text,
        reward_title -> Text,
        kind -> Text,
        charity -> Nullable<Text>,
        amount_minor -> Nullable<BigInt>,
        description -> Nullable<Text>,
        points -> BigInt,
        status -> Text,
        done_at -> Nullable<Timestamp>,
        done_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    referral_clicks (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        visitor -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    referral_claims (id) {
        id -> Text,
        shop_id -> Text,
        referrer_member_id -> Text,
        friend_email -> Text,
        friend_key -> Text,
        code -> Text,
        status -> Text,
        platform_discount_id -> Nullable<Text>,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    referrals (id) {
        id -> Text,
        shop_id -> Text,
        referrer_member_id -> Text,
        friend_key -> Text,
        friend_email -> Nullable<Text>,
        friend_member_id -> Nullable<Text>,
        friend_customer_id -> Nullable<Text>,
        platform_order_id -> Text,
        order_name -> Nullable<Text>,
        order_subtotal_minor -> BigInt,
        via -> Text,
        status -> Text,
        risk_score -> Integer,
        signals -> Text,
        reward_points -> BigInt,
        settles_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    affiliates (id) {
        id -> Text,
        shop_id -> Text,
        name -> Text,
        email -> Text,
        code -> Text,
        commission_bp -> Integer,
        customer_discount -> Text,
        status -> Text,
        platform_discount_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    affiliate_orders (shop_id, platform_order_id) {
        shop_id -> Text,
        platform_order_id -> Text,
        affiliate_id -> Text,
        revenue_minor -> BigInt,
        refunded_minor -> BigInt,
        placed_on -> Date,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    emails (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        kind -> Text,
        occasion -> Text,
        locale -> Text,
        context -> Text,
        to_address -> Nullable<Text>,
        subject -> Nullable<Text>,
        text_body -> Nullable<Text>,
        html_body -> Nullable<Text>,
        status -> Text,
        variant -> Nullable<Text>,
        send_after -> Timestamp,
        attempts -> Integer,
        lease_until -> Nullable<Timestamp>,
        digest_id -> Nullable<Text>,
        error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        opened_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        body_erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_suppressions (shop_id, email) {
        shop_id -> Text,
        email -> Text,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    customer_facts (member_id) {
        member_id -> Text,
        shop_id -> Text,
        first_order_on -> Nullable<Date>,
        last_order_on -> Nullable<Date>,
        order_count -> BigInt,
        net_spend_minor -> BigInt,
        median_gap_days -> Nullable<Double>,
        orders -> Text,
        segment -> Nullable<Text>,
        segment_on -> Nullable<Date>,
        updated_at -> Timestamp,
        win_back_lapse_on -> Nullable<Date>,
    }
}

diesel::table! {
    win_back_entries (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        lapse_on -> Date,
        entered_on -> Date,
        holdout -> Bool,
        variant -> Nullable<Text>,
        steps_sent -> Integer,
        next_step_on -> Nullable<Date>,
        pending_code -> Nullable<Text>,
        ended_on -> Nullable<Date>,
        end_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    product_purchases (shop_id, platform_order_id, product_id) {
        shop_id -> Text,
        platform_order_id -> Text,
        product_id -> Text,
        member_id -> Text,
        purchased_on -> Date,
        title -> Nullable<Text>,
    }
}

diesel::table! {
    nps_surveys (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Text,
        token -> Text,
        sent_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    nps_responses (id) {
        id -> Text,
        shop_id -> Text,
        member_id -> Nullable<Text>,
        survey_id -> Nullable<Text>,
        score -> Integer,
        comment -> Nullable<Text>,
        channel -> Text,
        answered_on -> Date,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    admin_login_links (token_hash) {
        token_hash -> Text,
        shop_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    admin_sessions (id_hash) {
        id_hash -> Text,
        shop_id -> Text,
        actor -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        embedded -> Bool,
    }
}

diesel::table! {
    bigcommerce_used_payloads (store_hash, jti) {
        store_hash -> Text,
        jti -> Text,
        expires_at -> Timestamp,
        used_at -> Timestamp,
    }
}

diesel::table! {
    history_backfills (shop_id) {
        shop_id -> Text,
        since -> Timestamp,
        cursor -> Nullable<Text>,
        orders -> BigInt,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    rollup_backlog (id) {
        id -> Text,
        shop_id -> Text,
        work -> Text,
        orders -> Integer,
        error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    metric_orders (shop_id, order_id) {
        shop_id -> Text,
        order_id -> Text,
        customer_id -> Nullable<Text>,
        ordered_on -> Date,
        net_minor -> BigInt,
        member -> Bool,
    }
}

diesel::table! {
    metric_days (shop_id, day) {
        shop_id -> Text,
        day -> Date,
        orders -> BigInt,
        revenue_minor -> BigInt,
        member_orders -> BigInt,
        member_revenue_minor -> BigInt,
        first_revenue_minor -> BigInt,
        new_customers -> BigInt,
        window_1 -> BigInt,
        window_2 -> BigInt,
        window_3 -> BigInt,
        window_4 -> BigInt,
        window_5 -> BigInt,
        clv_customers -> BigInt,
        clv_revenue_minor -> BigInt,
        points_earned -> BigInt,
        points_spent -> BigInt,
    }
}

diesel::table! {
    metric_spells (shop_id, customer_id, started_on) {
        shop_id -> Text,
        customer_id -> Text,
        started_on -> Date,
        last_order_on -> Date,
        ended_on -> Date,
        member -> Bool,
    }
}

diesel::table! {
    metric_engagement (shop_id, member_id, day) {
        shop_id -> Text,
        member_id -> Text,
        day -> Date,
        previous_day -> Nullable<Date>,
    }
}

diesel::table! {
    metric_day_changes (id) {
        id -> Text,
        shop_id -> Text,
        day -> Date,
        orders -> BigInt,
        revenue_minor -> BigInt,
        member_orders -> BigInt,
        member_revenue_minor -> BigInt,
        first_revenue_minor -> BigInt,
        new_customers -> BigInt,
        window_1 -> BigInt,
        window_2 -> BigInt,
        window_3 -> BigInt,
        window_4 -> BigInt,
        window_5 -> BigInt,
        clv_customers -> BigInt,
        clv_revenue_minor -> BigInt,
        points_earned -> BigInt,
        points_spent -> BigInt,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        shop_id -> Text,
        url -> Text,
        topics -> Text,
        secret_enc -> Text,
        enabled -> Bool,
        disabled_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_messages (id) {
        id -> Text,
        shop_id -> Text,
        subscription_id -> Text,
        topic -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        last_attempt_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        shop_id -> Text,
        message_id -> Text,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        duration_ms -> BigInt,
        error -> Nullable<Text>,
        cause -> Text,
    }
}

diesel::joinable!(members -> shops (shop_id));
diesel::joinable!(ledger_entries -> members (member_id));
diesel::joinable!(ledger_entries -> shops (shop_id));
diesel::joinable!(orders -> shops (shop_id));
diesel::joinable!(refunds -> shops (shop_id));
diesel::joinable!(product_collections -> shops (shop_id));
diesel::joinable!(redemptions -> shops (shop_id));
diesel::joinable!(point_reminders -> shops (shop_id));
diesel::joinable!(redemptions -> members (member_id));
diesel::joinable!(inbox_events -> shops (shop_id));
diesel::joinable!(jobs -> shops (shop_id));
diesel::joinable!(fulfilments -> shops (shop_id));
diesel::joinable!(fulfilments -> members (member_id));
diesel::joinable!(referral_clicks -> shops (shop_id));
diesel::joinable!(referral_claims -> shops (shop_id));
diesel::joinable!(referral_claims -> members (referrer_member_id));
diesel::joinable!(referrals -> shops (shop_id));
diesel::joinable!(affiliates -> shops (shop_id));
diesel::joinable!(affiliate_orders -> affiliates (affiliate_id));
diesel::joinable!(emails -> shops (shop_id));
diesel::joinable!(emails -> members (member_id));
diesel::joinable!(customer_facts -> shops (shop_id));
diesel::joinable!(customer_facts -> members (member_id));
diesel::joinable!(nps_surveys -> shops (shop_id));
diesel::joinable!(nps_surveys -> members (member_id));
diesel::joinable!(nps_responses -> shops (shop_id));
diesel::joinable!(win_back_entries -> shops (shop_id));
diesel::joinable!(win_back_entries -> members (member_id));
diesel::joinable!(admin_login_links -> shops (shop_id));
diesel::joinable!(admin_sessions -> shops (shop_id));
diesel::joinable!(history_backfills -> shops (shop_id));
diesel::joinable!(metric_orders -> shops (shop_id));
diesel::joinable!(metric_days -> shops (shop_id));
diesel::joinable!(metric_spells -> shops (shop_id));
diesel::joinable!(metric_day_changes -> shops (shop_id));
diesel::joinable!(metric_engagement -> shops (shop_id));
diesel::joinable!(rollup_backlog -> shops (shop_id));
diesel::joinable!(webhook_subscriptions -> shops (shop_id));
diesel::joinable!(webhook_messages -> webhook_subscriptions (subscription_id));
diesel::joinable!(webhook_attempts -> webhook_messages (message_id));

diesel::allow_tables_to_appear_in_same_query!(
    app_settings,
    rollup_backlog,
    shops,
    members,
    ledger_entries,
    orders,
    refunds,
    product_collections,
    redemptions,
    point_reminders,
    inbox_events,
    jobs,
    tier_activity,
    tier_grants,
    tier_events,
    entry_rewards,
    fulfilments,
    referral_clicks,
    referral_claims,
    referrals,
    affiliates,
    affiliate_orders,
    emails,
    email_suppressions,
    customer_facts,
    win_back_entries,
    product_purchases,
    nps_surveys,
    nps_responses,
    admin_login_links,
    admin_sessions,
    history_backfills,
    metric_orders,
    metric_days,
    metric_spells,
    metric_day_changes,
    metric_engagement,
    webhook_subscriptions,
    webhook_messages,
    webhook_attempts,
);

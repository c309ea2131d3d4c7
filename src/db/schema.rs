//! The portable schema shared by SQLite and PostgreSQL (see migrations/*).

diesel::table! {
    services (slug) {
        slug -> Text,
        name -> Text,
        price_minor -> BigInt,
        currency -> Text,
        period_days -> Integer,
        active -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        grace_days -> Integer,
        access_url -> Nullable<Text>,
        reminder_days -> Text,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        login -> Text,
        email -> Text,
        name -> Text,
        status -> Text,
        password_hash -> Nullable<Text>,
        must_change_password -> Bool,
        temp_password_expires_at -> Nullable<BigInt>,
        email_verified_at -> Nullable<BigInt>,
        failed_logins -> Integer,
        failed_window_start -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        renewal_reminders -> Bool,
        locale -> Text,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        service_slug -> Nullable<Text>,
        customer_name -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        locale -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        status -> Text,
        account_id -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        paid_at -> Nullable<BigInt>,
        expires_at -> BigInt,
        item_name -> Nullable<Text>,
        period_days -> Nullable<Integer>,
        hold_reason -> Nullable<Text>,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        order_id -> Text,
        gateway -> Text,
        gateway_payment_id -> Text,
        status -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        three_ds -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        captured_minor -> BigInt,
        refunded_minor -> BigInt,
    }
}

diesel::table! {
    payment_events (id) {
        id -> Text,
        gateway -> Text,
        event_id -> Text,
        order_id -> Nullable<Text>,
        gateway_payment_id -> Nullable<Text>,
        kind -> Text,
        outcome -> Text,
        detail -> Text,
        amount_minor -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        received_at -> BigInt,
    }
}

diesel::table! {
    access_grants (account_id, service_slug) {
        account_id -> Text,
        service_slug -> Text,
        active_until -> BigInt,
        updated_at -> BigInt,
        taken_back_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        purpose -> Text,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        created_at -> BigInt,
        replaced_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        account_id -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        absolute_expires_at -> BigInt,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        account_id -> Nullable<Text>,
        order_id -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        run_at -> BigInt,
        locked_until -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        sent_at -> Nullable<BigInt>,
        handed_over_at -> Nullable<BigInt>,
        possible_repeat -> Bool,
        claim_token -> Nullable<Text>,
    }
}

diesel::table! {
    throttles (key) {
        key -> Text,
        window_start -> BigInt,
        count -> Integer,
    }
}

diesel::table! {
    sandbox_payments (id) {
        id -> Text,
        order_id -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        card_last4 -> Text,
        status -> Text,
        three_ds -> Nullable<Text>,
        created_at -> BigInt,
        refunded_minor -> BigInt,
    }
}

diesel::table! {
    payment_aliases (gateway, alias) {
        gateway -> Text,
        alias -> Text,
        gateway_payment_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    payment_starts (gateway, reference) {
        gateway -> Text,
        reference -> Text,
        order_id -> Text,
        created_at -> BigInt,
        checked_at -> BigInt,
    }
}

diesel::table! {
    admins (id) {
        id -> Text,
        username -> Text,
        role -> Text,
        password_hash -> Text,
        status -> Text,
        totp_secret -> Nullable<Text>,
        totp_pending_secret -> Nullable<Text>,
        totp_last_step -> BigInt,
        failed_logins -> Integer,
        failed_window_start -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    admin_sessions (id_hash) {
        id_hash -> Text,
        admin_id -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
        absolute_expires_at -> BigInt,
        reauth_at -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> BigInt,
        actor -> Text,
        action -> Text,
        target -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        ip -> Text,
        outcome -> Text,
    }
}

diesel::table! {
    admin_settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    invoices (id) {
        id -> Text,
        order_id -> Text,
        created_by -> Text,
        terms_accepted_at -> Nullable<BigInt>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    payment_operations (id) {
        id -> Text,
        payment_id -> Text,
        kind -> Text,
        amount_minor -> BigInt,
        status -> Text,
        gateway_reference -> Nullable<Text>,
        detail -> Text,
        actor -> Text,
        request_key -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        fingerprint -> Text,
        status_code -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        url -> Text,
        events -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<BigInt>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Text,
        kind -> Text,
        account_id -> Nullable<Text>,
        payload -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        event_id -> Text,
        endpoint_id -> Text,
        status -> Text,
        attempts -> Integer,
        run_at -> BigInt,
        locked_until -> Nullable<BigInt>,
        claim_token -> Nullable<Text>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        delivered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    access_notices (account_id, service_slug, period_end, kind) {
        account_id -> Text,
        service_slug -> Text,
        period_end -> BigInt,
        kind -> Text,
        created_at -> BigInt,
        outbox_id -> Nullable<Text>,
        skipped -> Bool,
    }
}

diesel::table! {
    renewal_tokens (token_hash) {
        token_hash -> Text,
        account_id -> Text,
        service_slug -> Text,
        period_end -> BigInt,
        expires_at -> BigInt,
        created_at -> BigInt,
        outbox_id -> Nullable<Text>,
    }
}

diesel::table! {
    gateway_subscriptions (gateway, subscription_id) {
        gateway -> Text,
        subscription_id -> Text,
        order_id -> Text,
        account_id -> Nullable<Text>,
        service_slug -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        period_days -> Integer,
        status -> Text,
        created_at -> BigInt,
        cancelled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        key_hash -> Text,
        key_prefix -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    oidc_keys (kid) {
        kid -> Text,
        private_pem -> Text,
        n -> Text,
        e -> Text,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    oidc_clients (client_id) {
        client_id -> Text,
        name -> Text,
        secret_hash -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        service_slug -> Nullable<Text>,
        created_by -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    oidc_codes (code_hash) {
        code_hash -> Text,
        client_id -> Text,
        account_id -> Text,
        redirect_uri -> Text,
        code_challenge -> Text,
        nonce -> Nullable<Text>,
        scope -> Text,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    oidc_tokens (token_hash) {
        token_hash -> Text,
        kind -> Text,
        client_id -> Text,
        account_id -> Text,
        scope -> Text,
        family -> Text,
        code_hash -> Text,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    form_refs (ref_) {
        #[sql_name = "ref"]
        ref_ -> Text,
        order_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    slug_aliases (alias) {
        alias -> Text,
        service_slug -> Text,
        created_at -> BigInt,
    }
}

diesel::joinable!(orders -> services (service_slug));
diesel::joinable!(access_grants -> services (service_slug));
diesel::joinable!(access_grants -> accounts (account_id));
diesel::joinable!(payments -> orders (order_id));
diesel::joinable!(payment_starts -> orders (order_id));
diesel::joinable!(admin_sessions -> admins (admin_id));
diesel::joinable!(invoices -> orders (order_id));
diesel::joinable!(payment_operations -> payments (payment_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(api_keys -> admins (created_by));
diesel::joinable!(renewal_tokens -> accounts (account_id));
diesel::joinable!(form_refs -> orders (order_id));
diesel::joinable!(oidc_codes -> accounts (account_id));
diesel::joinable!(oidc_tokens -> accounts (account_id));
diesel::joinable!(gateway_subscriptions -> orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(
    services,
    slug_aliases,
    accounts,
    orders,
    payments,
    payment_events,
    access_grants,
    email_tokens,
    sessions,
    outbox,
    throttles,
    sandbox_payments,
    payment_starts,
    payment_aliases,
    admins,
    admin_sessions,
    audit_log,
    admin_settings,
    invoices,
    payment_operations,
    idempotency_keys,
    webhook_endpoints,
    webhook_events,
    webhook_deliveries,
    access_notices,
    api_keys,
    renewal_tokens,
    form_refs,
    oidc_keys,
    oidc_clients,
    oidc_codes,
    oidc_tokens,
    gateway_subscriptions,
);

# Shared by every customer page.
language = Language
error-title = Something is not right
go-back = Go back
try-again-later = The service is busy for a moment. Please try again in a minute.
days = { $count ->
    [one] { $count } day
   *[other] { $count } days
}
# The API's stable error codes as a page says them (a code without a message here shows the API's English message).
err-invalid_token = This link is not valid.
err-token_used = This link was already used; you can log in.
err-token_expired = This link has expired; ask for a new one.
err-token_replaced = A newer email replaced this link and its temporary password; use the most recent email from us.
err-account_suspended = This account is suspended; please contact support.
err-rate_limited = Too many attempts; please wait a minute and try again.
err-captcha_required = Please complete the captcha.
err-captcha_failed = The captcha was not accepted; please try again.
err-captcha_unavailable = The captcha could not be checked right now; please try again shortly.
err-unavailable = The service is busy for a moment. Please try again in a minute.
err-server_busy = The service is busy for a moment. Please try again in a minute.
err-invalid_credentials = The login or password is not correct.
err-temporary_password_expired = Your temporary password has expired. Use “Forgot password?” below to get a link and choose a new one.
err-weak_password = This password is too easy to guess. Use at least 12 characters; a few unrelated words work well.
err-password_too_long = This password is too long.
err-invalid_current_password = The current password is not correct.
err-validation_failed = Please check what you entered.

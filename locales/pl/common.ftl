# Wspólne dla wszystkich stron klienta.
language = Język
error-title = Coś poszło nie tak
go-back = Wróć
try-again-later = Usługa jest chwilowo zajęta. Prosimy spróbować ponownie za minutę.
days = { $count ->
    [one] { $count } dzień
   *[other] { $count } dni
}
err-invalid_token = Ten link jest nieprawidłowy.
err-token_used = Ten link został już użyty; można się zalogować.
err-token_expired = Ten link wygasł; prosimy poprosić o nowy.
err-token_replaced = Nowsza wiadomość zastąpiła ten link i hasło tymczasowe; prosimy skorzystać z najnowszej wiadomości od nas.
err-account_suspended = To konto jest zawieszone; prosimy o kontakt z pomocą.
err-rate_limited = Zbyt wiele prób. Prosimy odczekać minutę i spróbować ponownie.
err-captcha_required = Prosimy rozwiązać captchę.
err-captcha_failed = Captcha nie została zaakceptowana; prosimy spróbować ponownie.
err-captcha_unavailable = Nie można teraz sprawdzić captchy; prosimy spróbować za chwilę.
err-unavailable = Serwis jest chwilowo zajęty. Prosimy spróbować ponownie za minutę.
err-server_busy = Serwis jest chwilowo zajęty. Prosimy spróbować ponownie za minutę.
err-invalid_credentials = Login lub hasło są nieprawidłowe.
err-temporary_password_expired = Hasło tymczasowe wygasło. Prosimy kliknąć „Zapomniane hasło?” poniżej, aby otrzymać link i ustawić nowe.
err-weak_password = To hasło łatwo odgadnąć. Prosimy użyć co najmniej 12 znaków; dobrze sprawdza się kilka niezwiązanych ze sobą słów.
err-password_too_long = To hasło jest za długie.
err-invalid_current_password = Obecne hasło jest nieprawidłowe.
err-validation_failed = Prosimy sprawdzić wprowadzone dane.

# Zajedničko za sve stranice kupca.
language = Jezik
error-title = Nešto nije u redu
go-back = Vratite se nazad
try-again-later = Servis je trenutno zauzet. Molimo Vas da pokušate ponovo za minut.
days = { $count ->
    [one] { $count } dan
   *[other] { $count } dana
}
err-invalid_token = Ovaj link nije važeći.
err-token_used = Ovaj link je već iskorišćen; možete se prijaviti.
err-token_expired = Ovaj link je istekao; zatražite novi.
err-token_replaced = Novija poruka je zamenila ovaj link i privremenu lozinku; koristite najnoviju poruku od nas.
err-account_suspended = Ovaj nalog je suspendovan; obratite se podršci.
err-rate_limited = Previše pokušaja. Sačekajte minut i pokušajte ponovo.
err-captcha_required = Molimo Vas da rešite captcha proveru.
err-captcha_failed = Captcha provera nije prihvaćena; pokušajte ponovo.
err-captcha_unavailable = Captcha provera trenutno nije moguća; pokušajte ponovo uskoro.
err-unavailable = Servis je trenutno zauzet. Pokušajte ponovo za minut.
err-server_busy = Servis je trenutno zauzet. Pokušajte ponovo za minut.
err-invalid_credentials = Korisničko ime ili lozinka nisu tačni.
err-temporary_password_expired = Vaša privremena lozinka je istekla. Kliknite „Zaboravili ste lozinku?” ispod da dobijete link i izaberete novu.
err-weak_password = Ovu lozinku je lako pogoditi. Koristite najmanje 12 znakova; dobro rade nekoliko nepovezanih reči.
err-password_too_long = Ova lozinka je predugačka.
err-invalid_current_password = Trenutna lozinka nije tačna.
err-validation_failed = Molimo Vas da proverite unete podatke.

pw-forgot-label = Adres e-mail lub login
pw-forgot-button = Wyślij link
pw-forgot-title = Zapomniane hasło?
pw-forgot-text = Prosimy podać adres e-mail konta (lub jego login). Wyślemy link do ustawienia nowego hasła; działa jednorazowo, przez godzinę. Pomaga to także, gdy hasło tymczasowe wygasło.
pw-back-to-login = Wróć do logowania
pw-sent-title = Prosimy sprawdzić skrzynkę
pw-sent-text = <p>Jeśli ten adres lub login należy do konta, wysłaliśmy link na adres e-mail konta. Działa jednorazowo, przez godzinę.</p><p class="muted">Nic nie dotarło? Prosimy zajrzeć do folderu spam lub spróbować ponownie za kilka minut.</p>
pw-not-sent-title = Nie udało się wysłać
pw-choose-title = Ustaw nowe hasło
pw-choose-text = Co najmniej 12 znaków; dobrze sprawdza się kilka niezwiązanych ze sobą słów. Konto zostanie wylogowane na wszystkich urządzeniach.
pw-new-password = Nowe hasło
pw-save-button = Zapisz nowe hasło
pw-link-failed-title = Ten link nie działa
pw-later-title = Prosimy spróbować później
pw-later-text = Nie możemy teraz sprawdzić tego linku. Nic nie zostało zmienione, a link nadal działa: prosimy otworzyć go ponownie za kilka minut.
pw-changed-title = Hasło zmienione
pw-changed-text = <p class="ok">Nowe hasło zostało zapisane, a konto wylogowano na wszystkich urządzeniach.</p><p>Prosimy zalogować się loginem lub adresem e-mail i nowym hasłem.</p>
pw-log-in = Zaloguj się
pw-not-saved = Nie udało się teraz zapisać nowego hasła; nic nie zostało zmienione, a link nadal działa. Prosimy spróbować za kilka minut.

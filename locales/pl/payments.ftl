# Strony płatności: /pay/{order}, przejście do operatora płatności i /orders/{order}/return.
pay-title = Płatność za zamówienie
pay-order = Zamówienie { $id }
pay-card-note = Dane karty podają Państwo na stronie operatora płatności; nie widzimy numerów kart.
pay-none = Żadna metoda płatności nie jest włączona. Prosimy o kontakt ze sklepem.
nothing-to-pay = Brak należności
order-is = Status zamówienia: <strong>{ $status }</strong>.
order-status = { $status ->
    [pending_payment] oczekuje na płatność
    [paid] opłacone
    [provisioned] opłacone
    [failed] płatność nieudana
    [expired] termin płatności minął
    [cancelled] anulowane
    [refunded] zwrócone
   *[other] { $status }
}
order-not-found = Nie znaleźliśmy tego zamówienia.
busy = Prosimy spróbować ponownie za chwilę.
too-many = Zbyt wiele prób. Prosimy odczekać minutę i spróbować ponownie.
method-unavailable = Ta metoda płatności jest niedostępna.
provider-failed = Operator płatności odpowiedział nieoczekiwanie. Prosimy spróbować ponownie za chwilę lub wybrać inną metodę płatności.
held-title = Płatność autoryzowana
held-text = <p class="ok">Płatność kartą została autoryzowana i czeka na potwierdzenie sklepu.</p><p>Po potwierdzeniu wyślemy e-mail; nie trzeba już nic płacić.</p>
held-review = <p>Płatność otrzymana; sklep ją sprawdza i skontaktuje się z Państwem.</p><p>Nie trzeba już nic płacić.</p>
declined-title = Płatność odrzucona
declined-text = <p>Sklep odrzucił tę płatność, a środki zostały zwrócone przez operatora płatności; zamówienie nie jest opłacone.</p><p>W razie pytań prosimy o kontakt ze sklepem.</p>
confirming-title = Potwierdzamy płatność
confirming-text = <p>Czekamy, aż operator płatności potwierdzi płatność. Strona odświeży się sama.</p><p class="muted">Jeśli płatność została przerwana, można <a href="{ $href }">spróbować ponownie</a>.</p>
received-title = Płatność otrzymana
status-title = Status zamówienia
paid-thanks = Dziękujemy! Płatność została potwierdzona.
paid-new-account = Wysyłamy login, hasło tymczasowe i link potwierdzający na adres <strong>{ $email }</strong>. Wystarczy potwierdzić adres, zalogować się i ustawić własne hasło.
paid-extended = Login do usługi <strong>{ $service }</strong> jest w drodze na adres <strong>{ $email }</strong>, a jeśli ten adres ma już konto, dostęp został do niego dodany: prosimy logować się dotychczasowym loginem i hasłem.
paid-only-thanks = Dziękujemy! Płatność za <strong>{ $service }</strong> została potwierdzona.
paid-only-text = Potwierdzenie wysłaliśmy na adres <strong>{ $email }</strong>.
go-to-cabinet = Przejdź do panelu klienta

sf-busy = Prosimy spróbować ponownie za chwilę.
sf-not-on-sale = Ten produkt nie jest w sprzedaży.
sf-optional = { $label } (opcjonalnie)
sf-name = Imię i nazwisko
sf-email = E-mail
sf-phone = Telefon
sf-continue = Przejdź do płatności
sf-note = Login i hasło tymczasowe wyślemy e-mailem, gdy płatność zostanie potwierdzona. Są już Państwo naszymi klientami? Prosimy podać ten sam adres e-mail: dostęp zostanie dodany do konta.
sf-log-in = Zaloguj się do panelu klienta
sf-title = Zamówienie
sf-enter-name = Prosimy podać imię i nazwisko.
sf-enter-phone = Prosimy podać numer telefonu.
sf-unreadable = Nie udało się odczytać formularza; prosimy spróbować ponownie.
sf-buy = Kup
sf-nothing = Obecnie nic nie jest w sprzedaży.
sf-already = Są już Państwo naszymi klientami? <a href="{ $href }">Zaloguj się do panelu klienta</a>.
sf-welcome = Witamy
sf-preparing-title = Przygotowujemy zamówienie
sf-preparing = Zamówienie jest w drodze do nas; ta strona za chwilę sama przejdzie dalej.
sf-order-not-found-title = Nie znaleziono zamówienia
sf-order-not-found = <p>Pod tym linkiem nie ma zamówienia oczekującego na płatność. Jeśli formularz został właśnie wysłany, prosimy spróbować ponownie za minutę; jeśli płatność została już dokonana, prosimy poszukać naszej wiadomości lub <a href="/cabinet">zalogować się do panelu klienta</a>.</p><p><a href="/">Zobacz ofertę</a></p>

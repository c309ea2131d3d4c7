sf-busy = Molimo Vas da pokušate ponovo za trenutak.
sf-not-on-sale = Ovaj proizvod trenutno nije u prodaji.
sf-optional = { $label } (nije obavezno)
sf-name = Ime
sf-email = E-pošta
sf-phone = Telefon
sf-continue = Nastavite na plaćanje
sf-note = Korisničko ime i privremenu lozinku šaljemo e-poštom čim plaćanje bude potvrđeno. Već ste naš kupac? Unesite istu adresu e-pošte: pristup se dodaje Vašem nalogu.
sf-log-in = Prijavite se na svoj nalog
sf-title = Porudžbina
sf-enter-name = Molimo Vas da unesete ime.
sf-enter-phone = Molimo Vas da unesete broj telefona.
sf-unreadable = Obrazac nije mogao da se pročita; pokušajte ponovo.
sf-buy = Kupi
sf-nothing = Trenutno ništa nije u prodaji.
sf-already = Već ste naš kupac? <a href="{ $href }">Prijavite se na svoj nalog</a>.
sf-welcome = Dobro došli
sf-preparing-title = Pripremamo Vašu porudžbinu
sf-preparing = Vaša porudžbina je na putu do nas; ova stranica će za trenutak sama nastaviti dalje.
sf-order-not-found-title = Porudžbina nije pronađena
sf-order-not-found = <p>Pod ovim linkom nema porudžbine koja čeka plaćanje. Ako ste upravo poslali obrazac, pokušajte ponovo za minut; ako ste već platili, potražite našu poruku ili se <a href="/cabinet">prijavite na svoj nalog</a>.</p><p><a href="/">Pogledajte ponudu</a></p>

"""A clearly labelled skeleton deck for a bare topic: every slide says what to write, nothing is made up.

Used by the local engine when there is no source text. Labels exist in English, German, French and
Spanish; other languages get English labels (the user rewrites the slides anyway).
"""

from __future__ import annotations

from app.services.slides.engine.model import Slide

Section = tuple[str, list[str], str]  # title, bullets (instructions), speaker-notes instruction

# Narrative order of the skeleton's sections; PRIORITY says which to keep when the deck is short.
ORDER = ("why", "facts", "how", "example", "challenges", "options", "timeline", "next", "summary", "questions")
PRIORITY = ("why", "facts", "summary", "how", "example", "next", "challenges", "options", "timeline", "questions")

LABELS: dict[str, dict[str, str]] = {
    "en": {"agenda": "Agenda", "agenda_note": "Go through the agenda briefly and say how long the talk takes.",
           "overview": "Overview", "for": "For {audience}", "point": "Key point {n}",
           "fill_note": "Write here what you will say on this slide."},
    "de": {"agenda": "Agenda", "agenda_note": "Gehen Sie die Agenda kurz durch und sagen Sie, wie lange der "
                                              "Vortrag dauert.",
           "overview": "Überblick", "for": "Für {audience}", "point": "Kernpunkt {n}",
           "fill_note": "Notieren Sie hier, was Sie zu dieser Folie sagen wollen."},
    "fr": {"agenda": "Sommaire", "agenda_note": "Présentez rapidement le sommaire et la durée de l’exposé.",
           "overview": "Vue d’ensemble", "for": "Pour {audience}", "point": "Point clé {n}",
           "fill_note": "Notez ici ce que vous direz sur cette diapositive."},
    "es": {"agenda": "Agenda", "agenda_note": "Repase la agenda brevemente y diga cuánto dura la presentación.",
           "overview": "Visión general", "for": "Para {audience}", "point": "Punto clave {n}",
           "fill_note": "Anote aquí lo que dirá en esta diapositiva."},
}

FILL: dict[str, list[str]] = {  # for a slide that has only a title
    "en": ["Add 3 to 5 points about “{title}”", "Back each point with a fact, an example or a source"],
    "de": ["3 bis 5 Punkte zu „{title}“ ergänzen", "Jeden Punkt mit einem Fakt, Beispiel oder einer Quelle belegen"],
    "fr": ["Ajouter 3 à 5 points sur « {title} »", "Appuyer chaque point sur un fait, un exemple ou une source"],
    "es": ["Añadir de 3 a 5 puntos sobre «{title}»", "Respaldar cada punto con un dato, un ejemplo o una fuente"],
}

POINT: dict[str, Section] = {
    "en": ("", ["Add the point you want to make", "Add evidence: a number, an example or a quote, with its source",
                "Say why it matters to the audience"], "Explain point {n} in your own words."),
    "de": ("", ["Die Aussage ergänzen, die Sie machen wollen",
                "Einen Beleg ergänzen: eine Zahl, ein Beispiel oder ein Zitat, mit Quelle",
                "Sagen, warum es für das Publikum wichtig ist"], "Erklären Sie Punkt {n} in eigenen Worten."),
    "fr": ("", ["Ajouter l’idée que vous voulez défendre",
                "Ajouter une preuve : un chiffre, un exemple ou une citation, avec sa source",
                "Dire pourquoi c’est important pour le public"], "Expliquez le point {n} avec vos propres mots."),
    "es": ("", ["Añadir la idea que quiere transmitir",
                "Añadir una prueba: una cifra, un ejemplo o una cita, con su fuente",
                "Decir por qué importa al público"], "Explique el punto {n} con sus propias palabras."),
}

SECTIONS: dict[str, dict[str, Section]] = {
    "en": {
        "why": ("Why {topic} matters", ["State the problem or opportunity in one sentence",
                                        "Add a statistic that shows how big it is (with its source)",
                                        "Say who is affected and how"],
                "Explain why {topic} matters to this audience. Use a real figure you can cite."),
        "facts": ("Key facts", ["Add the first fact your audience must remember",
                                "Add a number, with its source and date",
                                "Add a fact that surprises or corrects a common belief"],
                  "Only use facts you can back with a source, and name it when you speak."),
        "how": ("How it works", ["Explain the core idea in one sentence", "Add the main steps or parts, one per bullet",
                                 "Add a diagram or picture that makes it concrete"],
                "Walk through the idea step by step, in plain words."),
        "example": ("An example", ["Describe a real case of {topic}",
                                   "Add the result it achieved (a number if you have one)",
                                   "Say what others can learn from it"],
                    "Tell the example as a story: situation, action, result."),
        "challenges": ("Challenges", ["List the main obstacles or risks", "Add what they cost (time, money, effort)",
                                      "Note the open questions"],
                       "Be honest about the difficulties; it makes the rest more credible."),
        "options": ("Options", ["Add the options you considered", "Give the main advantage and drawback of each",
                                "Say which one you recommend and why"],
                    "Compare the options fairly before giving your recommendation."),
        "timeline": ("Timeline", ["Add the key dates or milestones, in order", "Mark where we are today",
                                  "Add the next milestone and its date"],
                     "Show how far the road is and what comes next."),
        "next": ("Next steps", ["Add the first action, who owns it and by when", "Add what you need from the audience",
                                "Add how progress will be measured"],
                 "End with concrete actions, not intentions."),
        "summary": ("Summary", ["Restate the key message in one sentence", "Repeat the three points to remember",
                                "End with a clear call to action"],
                    "Sum up what the audience should take away."),
        "questions": ("Questions", ["Invite questions", "Add your contact details or where to learn more"],
                      "Prepare answers to the two questions you expect most."),
    },
    "de": {
        "why": ("Warum {topic} wichtig ist", ["Das Problem oder die Chance in einem Satz benennen",
                                              "Eine Kennzahl ergänzen, die die Größenordnung zeigt (mit Quelle)",
                                              "Sagen, wer betroffen ist und wie"],
                "Erklären Sie, warum {topic} das Publikum angeht. Nutzen Sie eine echte, belegbare Zahl."),
        "facts": ("Die wichtigsten Fakten", ["Den ersten Fakt ergänzen, den sich das Publikum merken soll",
                                             "Eine Zahl mit Quelle und Datum ergänzen",
                                             "Einen Fakt ergänzen, der überrascht oder einen Irrtum korrigiert"],
                  "Verwenden Sie nur Fakten, die Sie belegen können, und nennen Sie die Quelle."),
        "how": ("So funktioniert es", ["Die Kernidee in einem Satz erklären",
                                       "Die wichtigsten Schritte oder Teile ergänzen, einen pro Punkt",
                                       "Ein Diagramm oder Bild ergänzen, das es greifbar macht"],
                "Gehen Sie die Idee Schritt für Schritt in einfachen Worten durch."),
        "example": ("Ein Beispiel", ["Einen echten Fall zu {topic} beschreiben",
                                     "Das erzielte Ergebnis ergänzen (wenn möglich als Zahl)",
                                     "Sagen, was andere daraus lernen können"],
                    "Erzählen Sie das Beispiel: Ausgangslage, Handlung, Ergebnis."),
        "challenges": ("Herausforderungen", ["Die wichtigsten Hindernisse oder Risiken auflisten",
                                             "Ergänzen, was sie kosten (Zeit, Geld, Aufwand)",
                                             "Offene Fragen notieren"],
                       "Benennen Sie die Schwierigkeiten ehrlich; das macht den Rest glaubwürdiger."),
        "options": ("Optionen", ["Die geprüften Optionen ergänzen",
                                 "Für jede den wichtigsten Vor- und Nachteil nennen",
                                 "Sagen, welche Sie empfehlen und warum"],
                    "Vergleichen Sie die Optionen fair, bevor Sie Ihre Empfehlung geben."),
        "timeline": ("Zeitplan", ["Die wichtigsten Termine oder Meilensteine der Reihe nach ergänzen",
                                  "Markieren, wo wir heute stehen", "Den nächsten Meilenstein mit Datum ergänzen"],
                     "Zeigen Sie, wie weit der Weg ist und was als Nächstes kommt."),
        "next": ("Nächste Schritte", ["Den ersten Schritt mit Verantwortlichem und Termin ergänzen",
                                      "Ergänzen, was Sie vom Publikum brauchen",
                                      "Ergänzen, wie der Fortschritt gemessen wird"],
                 "Schließen Sie mit konkreten Aufgaben, nicht mit Absichten."),
        "summary": ("Zusammenfassung", ["Die Kernbotschaft in einem Satz wiederholen",
                                        "Die drei Punkte wiederholen, die man sich merken soll",
                                        "Mit einer klaren Handlungsaufforderung enden"],
                    "Fassen Sie zusammen, was das Publikum mitnehmen soll."),
        "questions": ("Fragen", ["Zu Fragen einladen", "Kontaktdaten oder weiterführende Quellen ergänzen"],
                      "Bereiten Sie Antworten auf die zwei wahrscheinlichsten Fragen vor."),
    },
    "fr": {
        "why": ("Pourquoi {topic} compte", ["Énoncer le problème ou l’opportunité en une phrase",
                                            "Ajouter un chiffre qui montre l’ampleur (avec sa source)",
                                            "Dire qui est concerné et comment"],
                "Expliquez pourquoi {topic} concerne ce public. Utilisez un chiffre réel et sourcé."),
        "facts": ("Les faits essentiels", ["Ajouter le premier fait que le public doit retenir",
                                           "Ajouter un chiffre avec sa source et sa date",
                                           "Ajouter un fait qui surprend ou corrige une idée reçue"],
                  "N’utilisez que des faits que vous pouvez sourcer, et citez la source."),
        "how": ("Comment ça marche", ["Expliquer l’idée centrale en une phrase",
                                      "Ajouter les étapes ou éléments principaux, un par puce",
                                      "Ajouter un schéma ou une image qui la rend concrète"],
                "Présentez l’idée étape par étape, avec des mots simples."),
        "example": ("Un exemple", ["Décrire un cas réel lié à {topic}",
                                   "Ajouter le résultat obtenu (un chiffre si possible)",
                                   "Dire ce que d’autres peuvent en apprendre"],
                    "Racontez l’exemple : situation, action, résultat."),
        "challenges": ("Les défis", ["Lister les principaux obstacles ou risques",
                                     "Ajouter ce qu’ils coûtent (temps, argent, effort)",
                                     "Noter les questions ouvertes"],
                       "Soyez honnête sur les difficultés : le reste n’en sera que plus crédible."),
        "options": ("Les options", ["Ajouter les options envisagées",
                                    "Donner le principal avantage et inconvénient de chacune",
                                    "Dire laquelle vous recommandez et pourquoi"],
                    "Comparez les options honnêtement avant de donner votre recommandation."),
        "timeline": ("Calendrier", ["Ajouter les dates ou étapes clés, dans l’ordre",
                                    "Indiquer où nous en sommes aujourd’hui", "Ajouter la prochaine étape et sa date"],
                     "Montrez le chemin parcouru et ce qui vient ensuite."),
        "next": ("Prochaines étapes", ["Ajouter la première action, son responsable et son échéance",
                                       "Ajouter ce dont vous avez besoin de la part du public",
                                       "Ajouter comment les progrès seront mesurés"],
                 "Terminez par des actions concrètes, pas par des intentions."),
        "summary": ("En résumé", ["Reformuler le message clé en une phrase", "Rappeler les trois points à retenir",
                                  "Terminer par un appel à l’action clair"],
                    "Résumez ce que le public doit retenir."),
        "questions": ("Questions", ["Inviter aux questions",
                                    "Ajouter vos coordonnées ou des ressources pour aller plus loin"],
                      "Préparez des réponses aux deux questions les plus probables."),
    },
    "es": {
        "why": ("Por qué importa {topic}", ["Plantear el problema o la oportunidad en una frase",
                                            "Añadir una cifra que muestre su magnitud (con su fuente)",
                                            "Decir a quién afecta y cómo"],
                "Explique por qué {topic} importa a este público. Use una cifra real que pueda citar."),
        "facts": ("Datos clave", ["Añadir el primer dato que el público debe recordar",
                                  "Añadir una cifra con su fuente y fecha",
                                  "Añadir un dato que sorprenda o corrija una idea errónea"],
                  "Use solo datos que pueda respaldar con una fuente, y cítela."),
        "how": ("Cómo funciona", ["Explicar la idea central en una frase",
                                  "Añadir los pasos o partes principales, uno por viñeta",
                                  "Añadir un diagrama o imagen que lo haga concreto"],
                "Recorra la idea paso a paso, con palabras sencillas."),
        "example": ("Un ejemplo", ["Describir un caso real de {topic}",
                                   "Añadir el resultado obtenido (una cifra si la tiene)",
                                   "Decir qué pueden aprender otros"],
                    "Cuente el ejemplo: situación, acción, resultado."),
        "challenges": ("Retos", ["Enumerar los principales obstáculos o riesgos",
                                 "Añadir lo que cuestan (tiempo, dinero, esfuerzo)", "Anotar las preguntas abiertas"],
                       "Sea honesto sobre las dificultades; hace más creíble el resto."),
        "options": ("Opciones", ["Añadir las opciones consideradas",
                                 "Indicar la principal ventaja y desventaja de cada una",
                                 "Decir cuál recomienda y por qué"],
                    "Compare las opciones con justicia antes de dar su recomendación."),
        "timeline": ("Calendario", ["Añadir las fechas o hitos clave, en orden", "Marcar dónde estamos hoy",
                                    "Añadir el próximo hito y su fecha"],
                     "Muestre el camino recorrido y lo que viene después."),
        "next": ("Próximos pasos", ["Añadir la primera acción, su responsable y su plazo",
                                    "Añadir lo que necesita del público", "Añadir cómo se medirá el progreso"],
                 "Termine con acciones concretas, no con intenciones."),
        "summary": ("Resumen", ["Repetir el mensaje clave en una frase",
                                "Recordar los tres puntos que hay que retener",
                                "Terminar con una llamada a la acción clara"],
                    "Resuma lo que el público debe llevarse."),
        "questions": ("Preguntas", ["Invitar a hacer preguntas", "Añadir sus datos de contacto o dónde saber más"],
                      "Prepare respuestas a las dos preguntas más probables."),
    },
}


def labels(language: str) -> dict[str, str]:
    """The engine's own words in `language` (English when there is no translation)."""
    return LABELS.get(language, LABELS["en"])


def fill_bullets(title: str, language: str) -> list[str]:
    """Instructions for a slide that has a title but no content yet."""
    return [b.format(title=title) for b in FILL.get(language, FILL["en"])]


def skeleton_slides(*, topic: str, audience: str, count: int, language: str, notes: bool) -> list[Slide]:
    """`count` slides for a bare topic: a title slide, an agenda, then placeholder sections."""
    lang = language if language in SECTIONS else "en"
    words, sections = LABELS[lang], SECTIONS[lang]
    topic = " ".join(topic.split())
    slides = [Slide(id="s1", layout="title", title=topic,
                    subtitle=words["for"].format(audience=audience) if audience.strip() else "")]
    room = count - 1
    with_agenda = room >= 3  # an agenda for two sections is noise
    room -= with_agenda
    chosen = [key for key in ORDER if key in PRIORITY[:room]]
    points = max(0, room - len(chosen))  # long decks: numbered key points before the summary
    parts: list[tuple[str, list[str], str]] = []
    for key in chosen:
        if key == "summary":
            for n in range(1, points + 1):
                bullets, note = POINT[lang][1], POINT[lang][2]
                parts.append((words["point"].format(n=n), bullets, note.format(n=n)))
        title, bullets, note = sections[key]
        parts.append((title.format(topic=topic), [b.format(topic=topic) for b in bullets], note.format(topic=topic)))
    if with_agenda:
        slides.append(Slide(id="s2", layout="bullets", title=words["agenda"], bullets=[p[0] for p in parts][:12],
                            notes=words["agenda_note"] if notes else "", placeholder=True))
    for title, bullets, note in parts:
        slides.append(Slide(id=f"s{len(slides) + 1}", layout="bullets", title=title, bullets=bullets,
                            notes=note if notes else "", placeholder=True))
    return slides

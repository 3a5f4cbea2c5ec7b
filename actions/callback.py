"""The callback booking form: name, Danish phone number, a free slot, topic; confirm; cancel."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.constants import (
    ACTION_ASK_CALLBACK_SLOT,
    ACTION_ASK_CALLBACK_TOPIC,
    ACTION_BOOK_CALLBACK,
    ACTION_CANCEL_CALLBACK,
    ACTION_CONFIRM_CALLBACK,
    ACTION_STOP_CALLBACK_FORM,
    ACTION_VALIDATE_CALLBACK_FORM,
    INTENT_KEEP_TOPIC,
    SLOT_AWAITING_CONFIRMATION,
    SLOT_CALLBACK_ID,
    SLOT_CALLBACK_NAME,
    SLOT_CALLBACK_OFFERED,
    SLOT_CALLBACK_PHONE,
    SLOT_CALLBACK_SLOT,
    SLOT_CALLBACK_TOPIC,
    SLOT_DEPARTMENT,
    SLOT_LAST_QUESTION,
    SLOT_REQUESTED,
    SLOT_SUGGESTED_TOPIC,
)  # fmt: skip
from actions.metadata import municipality_of, now_for
from actions.services import services
from bot import questions
from bot.callbacks import (
    Slot,
    SlotFull,
    SlotUnavailable,
    book_callback,
    cancel_callback,
    free_slots,
    normalise_phone,
    parse_slot_id,
)  # fmt: skip
from bot.departments import DEFAULT_DEPARTMENT, department_name
from bot.store.cpr import mask_cpr
from bot.store.db import transaction

MAX_NAME = 80
MAX_TOPIC = 300


def _department(tracker: Tracker) -> str:
    return tracker.get_slot(SLOT_DEPARTMENT) or DEFAULT_DEPARTMENT


def _offered_slots(tracker: Tracker) -> list[Any]:
    svc = services()
    with transaction(svc.store.sessions) as session:
        return free_slots(session, svc.callback_config, _department(tracker), now_for(tracker))


class ValidateCallbackForm(FormValidationAction):
    def name(self) -> str:
        return ACTION_VALIDATE_CALLBACK_FORM

    def validate_callback_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = mask_cpr(" ".join(str(value or "").split()))
        if "[CPR" in name:
            dispatcher.utter_message(text="Skriv ikke dit CPR-nummer her. Skriv kun dit navn.")
            return {SLOT_CALLBACK_NAME: None}
        if not (2 <= len(name) <= MAX_NAME) or not any(c.isalpha() for c in name):
            dispatcher.utter_message(text="Skriv dit navn, for eksempel Mette Hansen.")
            return {SLOT_CALLBACK_NAME: None}
        for prefix in ("jeg hedder ", "mit navn er ", "det er "):
            if name.lower().startswith(prefix):
                name = name[len(prefix) :]
        return {SLOT_CALLBACK_NAME: name}

    def validate_callback_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone = normalise_phone(str(value or ""))
        if phone is None:
            dispatcher.utter_message(
                text="Det ligner ikke et dansk telefonnummer. Skriv 8 cifre, for eksempel "
                "12 34 56 78 eller +45 12 34 56 78."
            )
        return {SLOT_CALLBACK_PHONE: phone}

    def validate_callback_slot(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        offered = _offered_slots(tracker)
        chosen = next((s for s in offered if s.slot_id == text), None)
        if chosen is None and text.isdigit() and 1 <= int(text) <= len(offered):
            chosen = offered[int(text) - 1]  # "2" = the second time shown
        if chosen is None:
            dispatcher.utter_message(text="Vælg en af tiderne ved at trykke på den.")
            return {SLOT_CALLBACK_SLOT: None}
        return {SLOT_CALLBACK_SLOT: chosen.slot_id}

    def validate_callback_topic(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == INTENT_KEEP_TOPIC and tracker.get_slot(SLOT_SUGGESTED_TOPIC):
            return {SLOT_CALLBACK_TOPIC: tracker.get_slot(SLOT_SUGGESTED_TOPIC)}
        topic = mask_cpr(" ".join(str(value or "").split()))
        if len(topic) < 3 or topic.startswith("/"):
            dispatcher.utter_message(text="Skriv kort, hvad opkaldet skal handle om.")
            return {SLOT_CALLBACK_TOPIC: None}
        return {SLOT_CALLBACK_TOPIC: topic[:MAX_TOPIC]}


class ActionAskCallbackSlot(Action):
    def name(self) -> str:
        return ACTION_ASK_CALLBACK_SLOT

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        offered = _offered_slots(tracker)
        if not offered:
            dispatcher.utter_message(
                text="Der er desværre ingen ledige tider til opkald de næste dage. Ring til "
                "Borgerservice, eller prøv igen senere."
            )
            return [ActiveLoop(None), SlotSet(SLOT_REQUESTED, None)]
        dispatcher.utter_message(
            text=f"Hvornår må {department_name(_department(tracker))} ringe? Vælg en tid:",
            buttons=[
                {"title": s.label, "payload": f'/inform{{"slot_id": "{s.slot_id}"}}'}
                for s in offered
            ],
        )
        return []


class ActionAskCallbackTopic(Action):
    def name(self) -> str:
        return ACTION_ASK_CALLBACK_TOPIC

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        suggested = mask_cpr(tracker.get_slot(SLOT_LAST_QUESTION) or "")[:MAX_TOPIC]
        if suggested:
            dispatcher.utter_message(
                text=f'Hvad handler opkaldet om? Jeg har skrevet: "{suggested}". '
                "Tryk på knappen for at beholde det, eller skriv et andet emne.",
                buttons=[{"title": "Behold emnet", "payload": f"/{INTENT_KEEP_TOPIC}"}],
            )
        else:
            dispatcher.utter_message(text="Hvad handler opkaldet om? Skriv det kort.")
        return [SlotSet(SLOT_SUGGESTED_TOPIC, suggested or None)]


def _slot_label(slot_id: str | None) -> str:
    try:
        department, start = parse_slot_id(slot_id or "")
        length = services().callback_config.department(department).slot_length
    except (KeyError, ValueError):
        return slot_id or ""
    return Slot(start, department, 0, length).label


class ActionConfirmCallback(Action):
    def name(self) -> str:
        return ACTION_CONFIRM_CALLBACK

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="Tjek, at det er rigtigt:\n"
            f"Navn: {tracker.get_slot(SLOT_CALLBACK_NAME)}\n"
            f"Telefon: {tracker.get_slot(SLOT_CALLBACK_PHONE)}\n"
            f"Tid: {_slot_label(tracker.get_slot(SLOT_CALLBACK_SLOT))}\n"
            f"Emne: {tracker.get_slot(SLOT_CALLBACK_TOPIC)}\n"
            f"Afdeling: {department_name(_department(tracker))}",
            buttons=[
                {"title": "Bekræft", "payload": "/affirm"},
                {"title": "Annuller", "payload": "/cancel"},
            ],
        )
        return [SlotSet(SLOT_AWAITING_CONFIRMATION, True)]


class ActionBookCallback(Action):
    def name(self) -> str:
        return ACTION_BOOK_CALLBACK

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        svc = services()
        try:
            booking = book_callback(
                svc.store.sessions, svc.callback_config,
                conversation_id=tracker.sender_id,
                name=tracker.get_slot(SLOT_CALLBACK_NAME),
                phone=tracker.get_slot(SLOT_CALLBACK_PHONE),
                department=_department(tracker),
                slot_id=tracker.get_slot(SLOT_CALLBACK_SLOT),
                topic=tracker.get_slot(SLOT_CALLBACK_TOPIC),
                now=now_for(tracker),
                municipality=municipality_of(tracker) or "*",
            )  # fmt: skip
        except (SlotFull, SlotUnavailable):
            dispatcher.utter_message(text="Den tid er desværre lige blevet optaget.")
            return [
                SlotSet(SLOT_CALLBACK_SLOT, None),
                SlotSet(SLOT_AWAITING_CONFIRMATION, False),
                ActiveLoop("callback_form"),
                SlotSet(SLOT_REQUESTED, SLOT_CALLBACK_SLOT),
            ] + ActionAskCallbackSlot().run(dispatcher, tracker, domain)
        questions.mark_escalation(svc, tracker.sender_id, "requested", "callback")
        dispatcher.utter_message(
            text=f"Dit opkald er bestilt: {_slot_label(tracker.get_slot(SLOT_CALLBACK_SLOT))}. "
            f"{department_name(_department(tracker))} ringer til "
            f'{tracker.get_slot(SLOT_CALLBACK_PHONE)}. Skriv "aflys", hvis du vil aflyse.'
        )
        return [
            SlotSet(SLOT_CALLBACK_ID, float(booking.id)),
            SlotSet(SLOT_AWAITING_CONFIRMATION, False),
            SlotSet(SLOT_CALLBACK_OFFERED, False),
            SlotSet(SLOT_CALLBACK_SLOT, None),
            SlotSet(SLOT_CALLBACK_TOPIC, None),
        ]


class ActionStopCallbackForm(Action):
    def name(self) -> str:
        return ACTION_STOP_CALLBACK_FORM

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_callback_stopped")
        return [
            SlotSet(SLOT_AWAITING_CONFIRMATION, False),
            SlotSet(SLOT_CALLBACK_OFFERED, False),
            SlotSet(SLOT_CALLBACK_SLOT, None),
            SlotSet(SLOT_CALLBACK_TOPIC, None),
            SlotSet(SLOT_REQUESTED, None),
        ]


class ActionCancelCallback(Action):
    def name(self) -> str:
        return ACTION_CANCEL_CALLBACK

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        callback_id = tracker.get_slot(SLOT_CALLBACK_ID)
        if not callback_id:
            dispatcher.utter_message(text="Du har ikke bestilt et opkald i denne samtale.")
            return []
        with transaction(services().store.sessions) as session:
            cancel_callback(session, callback_id=int(callback_id))
        dispatcher.utter_message(text="Dit opkald er aflyst. Tiden er givet fri igen.")
        return [SlotSet(SLOT_CALLBACK_ID, None)]

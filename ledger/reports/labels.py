"""The words of the reports, in English and Japanese, and the names of reference codes in either."""

from __future__ import annotations

from typing import Mapping

from ..errors import ValidationError
from ..refdata import ReferenceData

LANGUAGES = ("en", "ja")

EN = {
    "contents": "Contents", "page": "Page", "category": "", "total": "Total",
    "generated_at": "Generated at", "ledger": "Ledger", "ledger_id": "Ledger id", "period": "Period",
    "entries": "Entries", "checkpoint": "Checkpoint",
    "generated_line": "Generated {when} from ledger {ledger} ({size} entries); {checkpoint}",
    "checkpoint_line": "signed checkpoint at size {size}, root {root}",
    "no_checkpoint_line": "no signed checkpoint",
    # subject report
    "subject_title": "Disclosures of your personal data",
    "about": "About this report", "subject": "Identifier", "yes": "yes", "no": "no",
    "subject_intro": "This report answers a request to know which third parties received personal data about "
                     "the person identified as {identifier} (APPI Art. 33(5); GDPR Art. 15(1)(c)). It shows "
                     "only this person's records.",
    "statutory_title": "Records the law requires (APPI Art. 29)",
    "statutory_intro": "Records of provision to a third party that APPI Art. 29 and PPC Rule 20 require, with "
                       "the items the rule names.",
    "voluntary_title": "Other records kept voluntarily",
    "voluntary_intro": "Releases the law does not require a record of (to a contractor, to a government body, "
                       "under an exception, joint use or a business succession), kept all the same.",
    "notify_title": "Recipients to notify of a correction, erasure or stop of use",
    "notify_intro": "If the person's data is corrected or erased, or its use stopped, these recipients are "
                    "told (GDPR Art. 19; APPI Art. 35).",
    "erased_title": "Erasure",
    "erased_text": "The data identifying this person was erased from the ledger on {when} (entry {seq}, "
                   "reason: {reason}). The records stay, without the identifier, so that the ledger still "
                   "verifies; they are listed here.",
    "not_found_text": "No record in the ledger names {identifier}. If the person's data was erased, give the "
                      "erasure entry (--erasure SEQ) to report the erasure.",
    "date_of_provision": "Date of provision", "recipient": "Recipient", "address": "Address",
    "representative": "Representative", "data_items": "Data items", "basis": "Legal basis",
    "consent": "Consent obtained", "purpose": "Purpose", "status": "Status", "seq": "Entry",
    "country": "Country", "disclosures": "Disclosures", "last_release": "Last release",
    "record": "Record", "statutory": "statutory", "voluntary": "voluntary",
    "active": "active", "voided": "voided", "none": "None.", "kind": "Kind",
    "erased": "(erased)",
}

JA = {
    "contents": "目次", "page": "ページ", "category": "", "total": "合計",
    "generated_at": "作成日時", "ledger": "台帳", "ledger_id": "台帳ID", "period": "対象期間",
    "entries": "記録数", "checkpoint": "チェックポイント",
    "generated_line": "{when} 作成　台帳 {ledger}（{size} 件）　{checkpoint}",
    "checkpoint_line": "署名付きチェックポイント（サイズ {size}、ルート {root}）",
    "no_checkpoint_line": "署名付きチェックポイントなし",
    "subject_title": "個人データの第三者提供記録の開示",
    "about": "本書について", "subject": "識別子", "yes": "あり", "no": "なし",
    "subject_intro": "本書は、識別子 {identifier} のご本人に関する個人データの提供先についての開示請求"
                     "（個人情報保護法第33条第5項、GDPR第15条第1項(c)）にお答えするものです。"
                     "ご本人の記録のみを記載しています。",
    "statutory_title": "法令で作成が義務付けられた記録（個人情報保護法第29条）",
    "statutory_intro": "個人情報保護法第29条及び同法施行規則第20条により作成が義務付けられた第三者提供の記録で、"
                       "同規則が定める事項を記載しています。",
    "voluntary_title": "任意に作成した記録",
    "voluntary_intro": "法令上は記録義務のない提供（委託先への提供、国の機関等への提供、法令に基づく場合等の例外、"
                       "共同利用、事業の承継）についても、当社は記録を作成しています。",
    "notify_title": "訂正・削除・利用停止の際に通知する提供先",
    "notify_intro": "ご本人のデータを訂正・削除し、又は利用を停止したときは、次の提供先に通知します"
                    "（GDPR第19条、個人情報保護法第35条）。",
    "erased_title": "消去",
    "erased_text": "このご本人を識別するデータは {when} に台帳から消去されました（記録番号 {seq}、理由：{reason}）。"
                   "台帳の検証を保つため、記録自体は識別子を除いて残っており、以下に記載します。",
    "not_found_text": "台帳には {identifier} を記載した記録はありません。データが消去済みの場合は、"
                      "消去の記録番号（--erasure SEQ）を指定してください。",
    "date_of_provision": "提供年月日", "recipient": "提供先", "address": "住所",
    "representative": "代表者", "data_items": "個人データの項目", "basis": "根拠",
    "consent": "本人の同意", "purpose": "利用目的", "status": "状態", "seq": "記録番号",
    "country": "国", "disclosures": "提供記録", "last_release": "最終提供日",
    "record": "記録の種類", "statutory": "法定記録", "voluntary": "任意記録",
    "active": "有効", "voided": "取消済", "none": "該当なし。", "kind": "種別",
    "erased": "（消去済み）",
}

ERASURE_REASONS_JA = {
    "data_subject_request": "本人からの削除請求",
    "consent_withdrawn": "同意の撤回",
    "retention_ended": "保存期間の満了",
    "unlawful_processing": "不適正な取扱い",
}


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValidationError("lang", f"unknown language '{lang[:10]}'; valid: {', '.join(LANGUAGES)}")
    return lang


def labels_for(lang: str) -> Mapping[str, str]:
    return JA if lang == "ja" else EN


class Names:
    """Names of reference codes (bases, purposes, items, kinds, routes, countries) in a language."""

    def __init__(self, ref: ReferenceData, lang: str = "en"):
        self.ref = ref
        self.ja = lang == "ja"

    def _name(self, table: Mapping, code: str | None) -> str:
        if code is None:
            return ""
        found = table.get(code)
        if found is None:
            return code
        return getattr(found, "name_ja", None) or found.name if self.ja else found.name

    def basis(self, code: str) -> str:
        return self._name(self.ref.bases, code)

    def purpose(self, code: str) -> str:
        return self._name(self.ref.purposes, code)

    def item(self, code: str) -> str:
        return self._name(self.ref.data_items, code)

    def items(self, codes) -> str:
        return ("、" if self.ja else ", ").join(self.item(c) for c in codes)

    def kind(self, code: str) -> str:
        return self._name(self.ref.party_kinds, code)

    def route(self, code: str | None) -> str:
        return self._name(self.ref.routes, code)

    def country(self, code: str) -> str:
        found = self.ref.countries.get(code)
        return f"{found.name} ({code})" if found else code

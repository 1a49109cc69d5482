"""Phone settings: the AI Hub token (masked, stored where qai-hub reads it, never shown again)
and the adb program."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.phone.context import WizardContext
from desktop_app.widgets.layouts import wide_row
from engine.errors import MfaganError


class PhoneSettings(QWidget):
    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("paste the API token from your AI Hub account settings")
        self.save_button = QPushButton("Save token")
        self.token_state = QLabel("")
        self.token_state.setWordWrap(True)
        self.adb = QLineEdit(ctx.state.adb)
        self.adb.setPlaceholderText("adb on PATH")
        hub = QGroupBox("Qualcomm AI Hub")
        form = QFormLayout(hub)
        form.addRow("API token:", wide_row(self.token, self.save_button))
        form.addRow(self.token_state)
        phone = QGroupBox("Phone over USB")
        QFormLayout(phone).addRow("adb program:", self.adb)
        layout = QVBoxLayout(self)
        layout.addWidget(hub)
        layout.addWidget(phone)
        layout.addStretch(1)
        self.save_button.clicked.connect(self.save_token)
        self.adb.editingFinished.connect(lambda: ctx.update(adb=self.adb.text().strip()))
        self._show_token_state()

    def _show_token_state(self, note: str = "") -> None:
        from engine.phones.aihub_token import config_path, token_configured

        if token_configured():
            text = f"A token is stored in {config_path()} (readable only by you)."
        else:
            text = "No token stored: AI Hub steps are off."
        self.token_state.setText((note + " " if note else "") + text)

    def save_token(self) -> None:
        from engine.phones.aihub_token import store_token

        token = self.token.text()
        self.token.clear()  # never kept in the window, never shown again
        try:
            store_token(token)
        except MfaganError as error:
            self._show_token_state(str(error) + ".")
            return
        self._show_token_state("Saved.")
        self.ctx.changed.emit()

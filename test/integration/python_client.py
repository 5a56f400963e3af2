"""A Python client of the relay with the `websockets` library, as a user would write one.

Beyond the README's JavaScript example it has what a test needs: the relay URL and token from
the environment, and a bound (stop once the reply the test expects has arrived, give up after a
timeout).
"""
import asyncio
import datetime
import json
import os
import websockets

EXPECTED_REPLY = os.environ.get("EXPECTED_REPLY", "")
TIMEOUT_S = float(os.environ.get("CLIENT_TIMEOUT_S", "10"))


class ReplyReceived(Exception):
    """Raised by handle_chat_message once the expected reply is in."""


def handle_chat_message(payload):
    print(f"Chat message: {json.dumps(payload)}")
    if payload["content"] == EXPECTED_REPLY:
        raise ReplyReceived()


async def connect_websocket(uri, token):
    async with websockets.connect(f"{uri}?token={token}") as websocket:
        # Handle incoming messages
        async def receive_messages():
            while True:
                message = await websocket.recv()
                data = json.loads(message)
                print(f"Received: {data}")

                # Handle different event types
                if data["event_type"] == "chat.message":
                    handle_chat_message(data["payload"])
                # Handle other event types

        # Send a message
        async def send_message(event_type, payload):
            message = {
                "event_type": event_type,
                "payload": payload,
                "timestamp": datetime.datetime.now().isoformat()
            }
            await websocket.send(json.dumps(message))

        # Example: Send a chat message
        await send_message("chat.message", {"content": "Hello, world!"})

        # Start receiving messages
        await asyncio.wait_for(receive_messages(), TIMEOUT_S)

# Run the client
try:
    asyncio.run(connect_websocket(os.environ.get("RELAY_URL", "ws://localhost:8001/ws"), os.environ.get("RELAY_TOKEN", "your_auth_token")))
except ReplyReceived:
    print("Done: the expected reply arrived")

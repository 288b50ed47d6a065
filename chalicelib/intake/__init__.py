"""What the routes do: authenticate, check the shape, de-duplicate, enqueue, answer fast.

webhooks.py: credential deliveries from platforms; lap.py: evidence from learning analytics;
auth.py: the shared-secret checks; enqueue.py: claim and queue; http.py: answers and bodies.
Nothing here calls a platform or the LRS: the workers do that after the answer has gone.
"""

"""The Django REST framework app: the model behind the contract."""

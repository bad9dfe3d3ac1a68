"""The only MLflow writer: runs with dataset inputs (`runs`), the model registry and its events (`registry`)."""

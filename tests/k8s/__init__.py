"""Rules over the rendered Kubernetes objects and the Dockerfiles."""

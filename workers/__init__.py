"""The RQ side: the solve job, the solve runner and maintenance (reconcile, recover, purge)."""

"""Land clearance (giải phóng mặt bằng): statuses, status sheets, progress roll-ups. Pure logic."""

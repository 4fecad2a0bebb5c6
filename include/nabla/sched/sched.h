// sched: learning-rate schedules (every public sched header).
#pragma once

#include "nabla/sched/scheduler.h"

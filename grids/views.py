from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from grids import selectors


@login_required
def grid_index(request):
    roots = selectors.grid_list(user=request.user).order_by("level", "code")[:1]
    if roots:
        return redirect("grid-detail", code=roots[0].code)
    return render(request, "grids/empty.html")


@login_required
def grid_detail(request, code):
    grid = selectors.grid_get(user=request.user, code=code)
    return render(request, "grids/detail.html", {"grid": grid})

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .login_guard import guarded

urlpatterns = [
    path("login/", guarded(auth_views.LoginView.as_view(redirect_authenticated_user=True)), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("token/", views.api_token, name="api_token"),
    path("lockouts/", views.lockouts, name="lockouts"),
]

from django.urls import path

from . import views, words_views

app_name = "learning"

urlpatterns = [
    path("models/", views.model_list, name="model_list"),
    path("models/compare/", views.model_compare, name="model_compare"),
    path("models/evaluate/", views.model_evaluate, name="model_evaluate"),
    path("models/rollback/", views.model_rollback, name="model_rollback"),
    path("models/<int:pk>/", views.model_detail, name="model_detail"),
    path("models/<int:pk>/confusion.png", views.model_confusion, name="model_confusion"),
    path("models/<int:pk>/promote/", views.model_promote, name="model_promote"),
    path("models/<int:pk>/challenger/", views.model_challenger, name="model_challenger"),
    path("evaluations/<int:pk>/<int:version>/confusion.png", views.evaluation_confusion, name="evaluation_confusion"),
    path("words-models/", words_views.words_model_list, name="words_model_list"),
    path("words-models/train/", words_views.words_model_train, name="words_model_train"),
    path("words-models/challenger/", words_views.words_model_challenger, name="words_model_challenger"),
    path("words-models/rollback/", words_views.words_model_rollback_view, name="words_model_rollback"),
    path("words-models/<int:pk>/promote/", words_views.words_model_promote_view, name="words_model_promote"),
    path("datasets/", views.dataset_list, name="dataset_list"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset_detail"),
    path("datasets/<int:pk>/chart.png", views.dataset_chart, name="dataset_chart"),
    path("datasets/<int:pk>/attributes/<str:name>.png", views.dataset_attribute_chart, name="dataset_attribute_chart"),
    path("clips/<int:pk>/audio", views.clip_audio, name="clip_audio"),
    path("clips/<int:pk>/change/", views.clip_change, name="clip_change"),
    path("training/", views.training_list, name="training_list"),
    path("training/<int:pk>/", views.training_detail, name="training_detail"),
    path("training/<int:pk>/cancel/", views.training_cancel, name="training_cancel"),
]

from django.urls import path

from counting import views

urlpatterns = [
    path("like/<str:post>/", views.like),
    path("likes/<str:post>/", views.likes),
    path("alike/<str:post>/", views.alike),
]

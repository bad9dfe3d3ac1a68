-- run once by the postgres image on an empty volume: one database per store of the profile
CREATE DATABASE dagster;
CREATE DATABASE mlflow;
CREATE DATABASE optuna;
